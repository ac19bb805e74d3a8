package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// errNoNative: the platform or file system has no no-replace rename; the
// portable fallback is used.
var errNoNative = errors.New("no native no-replace rename")

// RenameNoReplace renames oldname to newname, both relative to r, and
// never replaces anything already at newname: if something is there —
// a file, a symlink, a directory, whoever created it and however late —
// it fails with an error wrapping fs.ErrExist and changes nothing. It is
// the rename for directories other processes can write (RELIABILITY I13):
// a check followed by a plain rename would replace what appeared in
// between.
//
// It is one system call where the OS has one — renameat2(RENAME_NOREPLACE)
// on Linux, renameatx_np(RENAME_EXCL) on macOS. Where that is missing, or
// the file system refuses it (EINVAL, ENOTSUP), a file is linked to the
// new name (link fails if the name exists) and the old name removed, and
// a directory is renamed onto an empty directory made for it (mkdir fails
// if the name exists; rename onto a non-empty directory fails). Only where
// neither exists (a file system without hard links that also refuses the
// flag, or Windows for directories) does it fall back to checking that
// newname is absent just before a plain rename.
func RenameNoReplace(r *os.Root, oldname, newname string) error {
	err := renameNoReplace(r, oldname, newname)
	if errors.Is(err, errNoNative) {
		err = renameByLink(r, oldname, newname)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: unwrapPath(err)}
	}
	return nil
}

// renameByLink is the portable no-replace rename (see RenameNoReplace).
func renameByLink(r *os.Root, oldname, newname string) error {
	fi, err := r.Lstat(oldname)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return renameDir(r, oldname, newname)
	}
	err = r.Link(oldname, newname)
	switch {
	case err == nil:
		return r.Remove(oldname)
	case errors.Is(err, fs.ErrExist):
		return err
	}
	return checkThenRename(r, oldname, newname)
}

// checkThenRename is the last resort: refuse if newname exists, then
// rename. Something created in between would be replaced.
func checkThenRename(r *os.Root, oldname, newname string) error {
	if _, err := r.Lstat(newname); err == nil {
		return fs.ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return r.Rename(oldname, newname)
}

// unwrapPath strips an *os.PathError or *os.LinkError so the LinkError
// RenameNoReplace returns names both paths once.
func unwrapPath(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// openParents opens the directories holding oldname and newname under r.
func openParents(r *os.Root, oldname, newname string) (od, nd *os.File, err error) {
	for _, n := range []string{oldname, newname} {
		if b := filepath.Base(n); b == "." || b == ".." || b == string(filepath.Separator) {
			return nil, nil, fmt.Errorf("%q: not a name to rename", n)
		}
	}
	if od, err = OpenDir(r, filepath.Dir(oldname)); err != nil {
		return nil, nil, err
	}
	if nd, err = OpenDir(r, filepath.Dir(newname)); err != nil {
		od.Close()
		return nil, nil, err
	}
	return od, nd, nil
}
