package extract

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// commitAction is one step of moving the staged tree into Dir.
type commitAction struct {
	rel     string // path relative to Dir (and to the staging directory)
	merge   bool   // both are directories: descend, move the children
	replace bool   // remove the existing entry first (--overwrite)
}

// commit moves the staged tree into Dir. It first compares the whole tree
// with what Dir holds, without writing: an existing entry where a staged
// one goes is an ErrExists conflict unless Overwrite (which removes the
// entry itself — a symlink is unlinked, never followed — but never a
// directory); existing directories are merged into. Only then does it
// set the staged directories' modes and rename, fsyncing the directories
// renamed into.
func (x *extraction) commit(ctx context.Context) error {
	var acts []commitAction
	var conflicts []string
	if err := x.planCommit(".", &acts, &conflicts); err != nil {
		return err
	}
	if len(conflicts) > 0 {
		msg := conflicts[0]
		if len(conflicts) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(conflicts)-1)
		}
		return fmt.Errorf("%s; nothing was written (use --overwrite to replace files and symlinks): %w", msg, ErrExists)
	}
	// Directory modes go on only now: planning had to read every staged
	// directory, and a mode such as 0500 would have hidden it.
	if err := x.applyDirModes(); err != nil {
		return err
	}
	synced := map[string]bool{}
	for _, a := range acts {
		if err := ctx.Err(); err != nil {
			return err
		}
		staged := path.Join(x.stage, a.rel)
		if a.merge {
			// The staged directory is discarded; its children must be
			// movable out of it even when its mode says read-only.
			if err := x.root.Chmod(staged, 0o700); err != nil {
				return fmt.Errorf("commit %s: %w", x.display(a.rel), err)
			}
			continue
		}
		if a.replace {
			if err := x.root.Remove(a.rel); err != nil {
				return fmt.Errorf("replace %s: %w", x.display(a.rel), err)
			}
		}
		if err := x.move(staged, a.rel); err != nil {
			return err
		}
		synced[path.Dir(a.rel)] = true
	}
	dirs := make([]string, 0, len(synced))
	for d := range synced {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if err := fsx.SyncDir(x.root, d); err != nil {
			return fmt.Errorf("fsync %s: %w", x.display(d), err)
		}
	}
	return nil
}

// planCommit lists the actions for the staged directory rel, depth first,
// a merged directory before its children.
func (x *extraction) planCommit(rel string, acts *[]commitAction, conflicts *[]string) error {
	f, err := x.root.Open(path.Join(x.stage, rel))
	if err != nil {
		return fmt.Errorf("read staged %s: %w", rel, err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("read staged %s: %w", rel, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := path.Join(rel, e.Name())
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			*acts = append(*acts, commitAction{rel: p})
		case err != nil:
			return fmt.Errorf("check %s: %w", x.display(p), err)
		case fi.IsDir() && e.IsDir():
			*acts = append(*acts, commitAction{rel: p, merge: true})
			if err := x.planCommit(p, acts, conflicts); err != nil {
				return err
			}
		case !x.o.Overwrite:
			msg := x.display(p) + " exists"
			if !fi.Mode().IsRegular() {
				msg += " and is a " + fsx.FileKind(fi.Mode())
			}
			*conflicts = append(*conflicts, msg)
		case fi.IsDir():
			*conflicts = append(*conflicts, x.display(p)+" exists and is a directory (--overwrite replaces files and symlinks, not directories)")
		default:
			*acts = append(*acts, commitAction{rel: p, replace: true})
		}
	}
	return nil
}

// move renames a staged entry into place. A staged directory without
// write permission is made writable for the rename (which updates its
// "..") and given its mode back afterwards.
func (x *extraction) move(staged, rel string) error {
	fi, err := x.root.Lstat(staged)
	if err != nil {
		return fmt.Errorf("commit %s: %w", x.display(rel), err)
	}
	locked := fi.IsDir() && fi.Mode().Perm()&0o700 != 0o700
	if locked {
		if err := x.root.Chmod(staged, fi.Mode().Perm()|0o700); err != nil {
			return fmt.Errorf("commit %s: %w", x.display(rel), err)
		}
	}
	if err := x.root.Rename(staged, rel); err != nil {
		return fmt.Errorf("commit %s: %w", x.display(rel), err)
	}
	if locked {
		if err := x.root.Chmod(rel, fi.Mode().Perm()); err != nil {
			return fmt.Errorf("set mode of %s: %w", x.display(rel), err)
		}
	}
	return nil
}

// slashDir is dir for messages, slash-separated, without a trailing slash.
func slashDir(dir string) string {
	return strings.TrimSuffix(filepath.ToSlash(dir), "/")
}
