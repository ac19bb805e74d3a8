package fsx

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// renameNoReplace is renameat2(RENAME_NOREPLACE) on the parents opened
// through r (so no symlink leads outside it); errNoNative where the
// kernel or file system does not support the flag.
func renameNoReplace(r *os.Root, oldname, newname string) error {
	od, nd, err := openParents(r, oldname, newname)
	if err != nil {
		return err
	}
	defer od.Close()
	defer nd.Close()
	err = unix.Renameat2(int(od.Fd()), filepath.Base(oldname), int(nd.Fd()), filepath.Base(newname), unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOTSUP) {
		return errNoNative
	}
	return err
}

// renameDir renames a directory onto an empty directory made for it:
// Mkdir fails if newname exists, and rename(2) replaces only an empty
// directory, so whatever another process puts there first makes it fail.
func renameDir(r *os.Root, oldname, newname string) error {
	return renameDirViaMkdir(r, oldname, newname)
}
