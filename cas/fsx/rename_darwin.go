package fsx

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// renameNoReplace is renameatx_np(RENAME_EXCL) on the parents opened
// through r; errNoNative where the file system does not support it.
func renameNoReplace(r *os.Root, oldname, newname string) error {
	od, nd, err := openParents(r, oldname, newname)
	if err != nil {
		return err
	}
	defer od.Close()
	defer nd.Close()
	err = unix.RenameatxNp(int(od.Fd()), filepath.Base(oldname), int(nd.Fd()), filepath.Base(newname), unix.RENAME_EXCL)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS) {
		return errNoNative
	}
	return err
}

func renameDir(r *os.Root, oldname, newname string) error {
	return renameDirViaMkdir(r, oldname, newname)
}
