package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// MaxVolumes bounds a split export: volume names have three digits, so
// `cat FILE.0*`-style globs keep them in order.
const MaxVolumes = 1000

// partialSuffix marks a file still being written.
const partialSuffix = ".partial"

// Volume is one file of a finished export.
type Volume struct {
	Path   string        `json:"path"`
	Size   int64         `json:"size"`
	Digest digest.Digest `json:"digest"`
}

// VolumeWriter writes one stream to a file, or with a split size to
// consecutive volumes FILE.000, FILE.001, … of at most that many bytes,
// each hashed as it is written (on another goroutine) for the sidecar.
// Every file is written as NAME.partial; Commit makes them final.
type VolumeWriter struct {
	path  string
	split int64 // 0: one file
	done  []Volume
	made  []string // every file created, for Abort
	f     *os.File
	w     fsx.WritebackFile // writes to f, starting writeback as it goes
	h     *cas.AsyncHash
	n     int64 // bytes in the current volume
	err   error // sticky
}

// CreateVolumes starts writing path (split == 0) or its volumes.
func CreateVolumes(path string, split int64) (*VolumeWriter, error) {
	if split < 0 {
		return nil, fmt.Errorf("split size %d: must not be negative", split)
	}
	v := &VolumeWriter{path: path, split: split}
	if fi, err := os.Lstat(v.name(0)); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is a directory; give the archive's file name", layout.ErrInvalidArgument, v.name(0))
	}
	if err := v.open(); err != nil {
		return nil, err
	}
	return v, nil
}

// name is the final name of volume i.
func (v *VolumeWriter) name(i int) string {
	if v.split == 0 {
		return v.path
	}
	return fmt.Sprintf("%s.%03d", v.path, i)
}

func (v *VolumeWriter) open() error {
	i := len(v.done)
	if i >= MaxVolumes {
		return fmt.Errorf("%s: more than %d volumes; use a larger split size", v.path, MaxVolumes)
	}
	f, err := createFresh(v.name(i) + partialSuffix)
	if err != nil {
		return err
	}
	v.made = append(v.made, f.Name())
	v.f, v.w, v.h, v.n = f, fsx.WritebackFile{F: f}, cas.NewAsyncHash(digest.SHA256), 0
	return nil
}

// Write writes p, starting a new volume whenever the current one is full.
func (v *VolumeWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 && v.err == nil {
		if v.split > 0 && v.n == v.split {
			if v.err = v.finish(); v.err == nil {
				v.err = v.open()
			}
			continue
		}
		chunk := p
		if v.split > 0 && int64(len(chunk)) > v.split-v.n {
			chunk = chunk[:v.split-v.n]
		}
		n, err := v.w.Write(chunk)
		v.h.Write(chunk[:n])
		v.n += int64(n)
		written += n
		p = p[n:]
		if err != nil {
			v.err = fmt.Errorf("export volume: %w", err) // err names the file
		}
	}
	return written, v.err
}

// finish fsyncs and closes the current volume and records its digest.
func (v *VolumeWriter) finish() error {
	f, h := v.f, v.h
	v.f, v.h = nil, nil
	sum := h.Sum()
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	v.done = append(v.done, Volume{Path: v.name(len(v.done)), Size: v.n, Digest: sum})
	return nil
}

// Commit finishes the last volume, renames every volume from .partial to
// its final name, removes volumes left over from an earlier, longer
// export to the same name, and writes the sidecar FILE.sha256 (also via
// .partial) listing every volume in `sha256sum -c` format. The old
// sidecar is removed first, so a crash in between leaves volumes without
// a sidecar, never a sidecar that lies. Nothing is reported as written
// before the final directory fsync.
func (v *VolumeWriter) Commit() ([]Volume, error) {
	if v.err != nil {
		return nil, v.err
	}
	if err := v.finish(); err != nil {
		v.err = err
		return nil, err
	}
	sidecar := v.path + SidecarSuffix
	if err := removeIfExists(sidecar); err != nil {
		return nil, err
	}
	for _, vol := range v.done {
		if err := os.Rename(vol.Path+partialSuffix, vol.Path); err != nil {
			return nil, fmt.Errorf("rename %s: %w", vol.Path+partialSuffix, err)
		}
		// Only now is the final name ours to remove on Abort: before the
		// rename it may be the user's (an earlier export, a directory).
		v.made = append(v.made, vol.Path)
	}
	if v.split > 0 {
		for i := len(v.done); i < MaxVolumes; i++ {
			if err := os.Remove(v.name(i)); errors.Is(err, fs.ErrNotExist) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("remove stale volume: %w", err)
			}
		}
	}
	if err := writeFileSynced(sidecar, formatSidecar(v.done)); err != nil {
		return nil, err
	}
	if err := syncParent(v.path); err != nil {
		return nil, err
	}
	v.err = errors.New("volumes already committed")
	return v.done, nil
}

// Abort removes every file written (after a failed Commit, also the
// volumes it had renamed: they are an incomplete set). It must not be
// called after a successful Commit.
func (v *VolumeWriter) Abort() error {
	if v.f != nil {
		v.h.Sum()
		v.f.Close()
		v.f = nil
	}
	var errs []error
	for _, p := range v.made {
		errs = append(errs, removeIfExists(p))
	}
	v.err = errors.New("volumes aborted")
	return errors.Join(errs...)
}

// writeFileSynced writes b to path.partial (created fresh, see
// createFresh), fsyncs it and renames it to path. On error the .partial
// is removed.
func writeFileSynced(path string, b []byte) error {
	tmp := path + partialSuffix
	f, err := createFresh(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// createFresh creates path for writing as a new file of its own, never
// through whatever already has that name: a stale file or a symlink left
// at path (by a crash, or planted to redirect the write outside the
// target directory) is removed first — os.Remove removes a symlink
// itself, never its target — and O_EXCL (which with O_CREATE never
// follows a symlink) makes the create fail, instead of sharing the file,
// if another process creates path in between.
func createFresh(path string) (*os.File, error) {
	if err := removeIfExists(path); err != nil {
		return nil, fmt.Errorf("remove stale %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: expected no file after removing the stale one, found one (another export to the same file running?): %w", path, err)
	}
	return f, err
}

// removeIfExists removes path (a symlink itself, not its target); a path
// that does not exist is not an error.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncParent fsyncs the directory holding path, so renames in it last.
func syncParent(path string) error {
	r, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer r.Close()
	if err := fsx.SyncDir(r, "."); err != nil {
		return fmt.Errorf("fsync %s: %w", filepath.Dir(path), err)
	}
	return nil
}
