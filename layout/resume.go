package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// ResumeDir holds what interrupted transfers keep so that a later process
// can go on where they stopped: small state files and partial blobs. It is
// private to oci-pack (other tools ignore .oci-pack/) and gc empties it.
const ResumeDir = PrivateDir + "/resume"

// stateName is the grammar of names under ResumeDir: one path element of
// lowercase letters, digits, dots and dashes, not starting with a dot.
var stateName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,199}$`)

func checkStateName(name string) error {
	if !stateName.MatchString(name) {
		return fmt.Errorf("%w: private state name %q", ErrInvalidArgument, name)
	}
	return nil
}

// ReadState reads the state file name under ResumeDir, at most max bytes.
// It is opened through the layout's os.Root and only if it is a regular
// file (never following a link, never blocking on a FIFO; RELIABILITY
// I15). A missing file gives an error wrapping fs.ErrNotExist; callers
// treat any error as "no usable state" and start over.
func (l *Layout) ReadState(name string, max int64) ([]byte, error) {
	if err := checkStateName(name); err != nil {
		return nil, err
	}
	f, err := fsx.OpenRegular(l.root, path.Join(ResumeDir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return strictjson.ReadAll(f, max)
}

// WriteState replaces the state file name under ResumeDir with b
// atomically: a temp file in the same directory, fsynced, renamed over
// the name (a link planted there is replaced, not followed). A layout
// opened ReadOnly may keep state too (a push reads blobs but records its
// upload sessions); on a read-only medium the write fails.
func (l *Layout) WriteState(name string, b []byte) error {
	if err := checkStateName(name); err != nil {
		return err
	}
	if err := l.resumeDir(); err != nil {
		return err
	}
	tmp := path.Join(ResumeDir, ".tmp-"+randomSuffix())
	if err := writeSynced(l.root, tmp, b, 0); err != nil {
		return fmt.Errorf("%s: write %s: %w", l.dir, tmp, err)
	}
	if err := l.root.Rename(tmp, path.Join(ResumeDir, name)); err != nil {
		l.root.Remove(tmp)
		return fmt.Errorf("%s: replace %s/%s: %w", l.dir, ResumeDir, name, err)
	}
	return nil
}

// RemoveState removes name under ResumeDir (a state file or a partial
// blob); an absent name is not an error.
func (l *Layout) RemoveState(name string) error {
	if err := checkStateName(name); err != nil {
		return err
	}
	if err := l.root.Remove(path.Join(ResumeDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: remove %s/%s: %w", l.dir, ResumeDir, name, err)
	}
	return nil
}

// OpenPartial opens the partial blob name under ResumeDir for reading and
// writing, creating it if absent, and locks it exclusively without
// waiting. ok is false (and f nil) when another process holds it: the
// caller then stages without resuming. What is there must be a regular
// file with one link; anything else (a planted symlink, a hard link to a
// blob) is removed and replaced by a new empty file. rel is the path to
// hand to cas.Store.ResumeWriter. Closing f releases the lock.
func (l *Layout) OpenPartial(name string) (f *os.File, rel string, ok bool, err error) {
	if err := checkStateName(name); err != nil {
		return nil, "", false, err
	}
	if l.staging == "" {
		return nil, "", false, ErrReadOnly
	}
	if err := l.resumeDir(); err != nil {
		return nil, "", false, err
	}
	rel = path.Join(ResumeDir, name)
	if fi, err := l.root.Lstat(rel); err == nil && (!fi.Mode().IsRegular() || fsx.LinkCount(fi) > 1) {
		if err := l.root.Remove(rel); err != nil {
			return nil, "", false, fmt.Errorf("%s: remove unusable %s: %w", l.dir, rel, err)
		}
	}
	f, err = l.root.OpenFile(rel, os.O_RDWR|os.O_CREATE|fsx.ONonblock, 0o600)
	if err != nil {
		return nil, "", false, fmt.Errorf("%s: open %s: %w", l.dir, rel, err)
	}
	locked, err := tryLock(f, true)
	if err != nil || !locked {
		f.Close()
		return nil, "", false, err
	}
	// Under the lock, the name must still be this file, a regular one with
	// one link: a link swapped in before the open, or a file a finished
	// process renamed into blobs/ after we opened it, is not ours to write.
	fi, err1 := f.Stat()
	cur, err2 := l.root.Lstat(rel)
	if err1 != nil || err2 != nil || !fi.Mode().IsRegular() || fsx.LinkCount(fi) != 1 || !os.SameFile(fi, cur) {
		f.Close()
		return nil, "", false, nil
	}
	return f, rel, true, nil
}

// staleResume lists (and unless dry removes) everything under ResumeDir.
// Only gc calls it, holding the layout exclusively: no transfer is using
// the state, and a re-run then starts those transfers over.
func (l *Layout) staleResume(dry bool) ([]string, error) {
	entries, err := readDirAll(l.root, ResumeDir)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", ResumeDir, err)
	}
	var out []string
	for _, e := range entries {
		rel := path.Join(ResumeDir, e.Name())
		out = append(out, rel)
		if !dry {
			if err := l.root.RemoveAll(rel); err != nil {
				return out, fmt.Errorf("remove %s: %w", rel, err)
			}
		}
	}
	return out, nil
}

// resumeDir makes ResumeDir and checks that it and the private directory
// are real directories: a symlink planted there (even to another place
// inside the layout) is refused, never followed, so state and partial
// blobs land only where gc and the next run look for them.
func (l *Layout) resumeDir() error {
	if err := l.root.MkdirAll(ResumeDir, 0o755); err != nil {
		return fmt.Errorf("%s: create %s: %w", l.dir, ResumeDir, err)
	}
	for _, rel := range []string{PrivateDir, ResumeDir} {
		fi, err := l.root.Lstat(rel)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", l.dir, rel, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s/%s is a %s, not a directory: remove it: %w", l.dir, rel, fsx.FileKind(fi.Mode()), ErrCorrupt)
		}
	}
	return nil
}
