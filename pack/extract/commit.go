package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// commitAction is one step of moving the staged tree into Dir.
type commitAction struct {
	rel     string // path relative to Dir (and to the staging directory)
	merge   bool   // both are directories: descend, move the children
	replace bool   // remove the existing entry first (--overwrite)
	same    bool   // Dir already holds the same entry (sameEntry): nothing to move
}

// commit moves the staged tree into Dir. It first compares the whole tree
// with what Dir holds, without writing: an entry already there with the
// same content (a file of the same bytes, a symlink to the same target —
// what an interrupted run of this extraction placed) is kept and counted
// as done; any other existing entry is an ErrExists conflict unless
// Overwrite, which removes it — a file or a symlink (the link itself,
// never what it points to), never a directory, FIFO, device or socket.
// Existing directories are merged into. Only then does it set the staged
// directories' modes and move each entry with a rename that never
// replaces (fsx.RenameNoReplace, RELIABILITY I13): an entry another
// process creates in Dir meanwhile is not replaced, and the extraction
// fails naming it. On any error or cancellation during the moves, what
// this run had moved into place is moved back into staging (rolled back)
// and removed with it; what Overwrite replaced stays replaced. A kill
// leaves moved entries in place, complete; the re-run finds them the same
// and finishes the job. Then it fsyncs the directories renamed into.
func (x *extraction) commit(ctx context.Context) (err error) {
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
		return fmt.Errorf("%s; nothing was written: %w", msg, ErrExists)
	}
	// Directory modes go on only now: planning had to read every staged
	// directory, and a mode such as 0500 would have hidden it.
	if err := x.applyDirModes(); err != nil {
		return err
	}
	var placed []string // moved into Dir by this run, in order
	defer func() {
		if err != nil {
			err = x.rollback(placed, err)
		}
	}()
	synced := map[string]bool{}
	for _, a := range acts {
		if err := ctx.Err(); err != nil {
			return err
		}
		staged := path.Join(x.stage, a.rel)
		switch {
		case a.same:
			continue // the staged copy goes with the staging directory
		case a.merge:
			// The staged directory is discarded; its children must be
			// movable out of it even when its mode says read-only.
			if err := x.root.Chmod(staged, 0o700); err != nil {
				return fmt.Errorf("commit %s: %w", x.display(a.rel), err)
			}
			continue
		case a.replace:
			if err := x.root.Remove(a.rel); err != nil {
				return fmt.Errorf("replace %s: %w", x.display(a.rel), err)
			}
		}
		if testHookBeforeMove != nil {
			testHookBeforeMove(a.rel)
		}
		if err := x.move(staged, a.rel); errors.Is(err, fs.ErrExist) {
			if x.sameEntry(staged, a.rel) {
				continue // the same entry, placed by a concurrent identical run
			}
			return fmt.Errorf("%s was created by another process while this extraction was committing; not replaced: %w", x.display(a.rel), ErrExists)
		} else if err != nil {
			return err
		}
		if !a.replace {
			placed = append(placed, a.rel)
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
	layout.NotifyCommitted(ctx)
	return nil
}

// testHookBeforeMove, if set (by tests), runs before each entry is moved
// into Dir: the moment another process may create the same name.
var testHookBeforeMove func(rel string)

// rollback moves the entries placed (newest first) back into staging,
// after cause stopped the commit. It returns cause, saying what was taken
// back or, if something could not be, what is left in Dir (complete and
// verified: the re-run keeps it).
func (x *extraction) rollback(placed []string, cause error) error {
	var left []string
	for i := len(placed) - 1; i >= 0; i-- {
		if err := x.move(placed[i], path.Join(x.stage, placed[i])); err != nil {
			left = append(left, x.display(placed[i]))
		}
	}
	switch {
	case len(left) > 0:
		return fmt.Errorf("%w; left in place, complete: %s (a re-run keeps them)", cause, strings.Join(left, ", "))
	case len(placed) > 0:
		return fmt.Errorf("%w; the %d entr%s already moved into %s were taken back", cause, len(placed), plural(len(placed), "y", "ies"), slashDir(x.o.Dir))
	}
	return cause
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// planCommit lists the actions for the staged directory rel, depth first,
// a merged directory before its children.
func (x *extraction) planCommit(rel string, acts *[]commitAction, conflicts *[]string) error {
	f, err := fsx.OpenDir(x.root, path.Join(x.stage, rel))
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
		case x.sameEntry(path.Join(x.stage, p), p):
			*acts = append(*acts, commitAction{rel: p, same: true})
		case !x.o.Overwrite:
			msg := x.display(p) + " exists"
			if !fi.Mode().IsRegular() {
				msg += " and is a " + fsx.FileKind(fi.Mode())
			}
			*conflicts = append(*conflicts, msg)
		case !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0:
			*conflicts = append(*conflicts, fmt.Sprintf("%s exists and is a %s (overwriting replaces files and symlinks only)", x.display(p), fsx.FileKind(fi.Mode())))
		default:
			*acts = append(*acts, commitAction{rel: p, replace: true})
		}
	}
	return nil
}

// move renames from to to (both relative to Dir) without ever replacing
// what is at to: an error wrapping fs.ErrExist if anything is. A
// directory without write permission is made writable for the rename
// (which updates its "..") and given its mode back afterwards.
func (x *extraction) move(from, to string) error {
	fi, err := x.root.Lstat(from)
	if err != nil {
		return fmt.Errorf("commit %s: %w", x.display(to), err)
	}
	locked := fi.IsDir() && fi.Mode().Perm()&0o700 != 0o700
	if locked {
		if err := x.root.Chmod(from, fi.Mode().Perm()|0o700); err != nil {
			return fmt.Errorf("commit %s: %w", x.display(to), err)
		}
	}
	if err := fsx.RenameNoReplace(x.root, from, to); err != nil {
		if locked {
			x.root.Chmod(from, fi.Mode().Perm())
		}
		return fmt.Errorf("commit %s: %w", x.display(to), err)
	}
	if locked {
		if err := x.root.Chmod(to, fi.Mode().Perm()); err != nil {
			return fmt.Errorf("set mode of %s: %w", x.display(to), err)
		}
	}
	return nil
}

// sameEntry says whether staged and existing (relative to Dir) are the
// same entry: both regular files of the same size and bytes, or both
// symlinks to the same target. Permission bits are not compared: the
// bytes are what an extraction promises, and a kept file is not changed.
// Anything else, or any error reading them, is not the same.
func (x *extraction) sameEntry(staged, existing string) bool {
	a, err := x.root.Lstat(staged)
	if err != nil {
		return false
	}
	b, err := x.root.Lstat(existing)
	if err != nil || a.Mode().Type() != b.Mode().Type() {
		return false
	}
	switch {
	case a.Mode()&fs.ModeSymlink != 0:
		ta, err1 := x.root.Readlink(staged)
		tb, err2 := x.root.Readlink(existing)
		return err1 == nil && err2 == nil && ta == tb
	case a.Mode().IsRegular():
		return a.Size() == b.Size() && sameBytes(x.root, staged, existing)
	}
	return false
}

// sameBytes compares two regular files under r byte by byte.
func sameBytes(r *os.Root, p, q string) bool {
	f, err := fsx.OpenRegular(r, p)
	if err != nil {
		return false
	}
	defer f.Close()
	g, err := fsx.OpenRegular(r, q)
	if err != nil {
		return false
	}
	defer g.Close()
	bf, bg := make([]byte, copyBufferSize), make([]byte, copyBufferSize)
	for {
		n, errf := io.ReadFull(f, bf)
		m, errg := io.ReadFull(g, bg)
		if n != m || !bytes.Equal(bf[:n], bg[:m]) {
			return false
		}
		if errf == io.EOF || errf == io.ErrUnexpectedEOF {
			return errg == errf
		}
		if errf != nil || errg != nil {
			return false
		}
	}
}

// slashDir is dir for messages, slash-separated, without a trailing slash.
func slashDir(dir string) string {
	return strings.TrimSuffix(filepath.ToSlash(dir), "/")
}
