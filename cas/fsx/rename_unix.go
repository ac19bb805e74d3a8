//go:build unix

package fsx

import (
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// renameDirViaMkdir renames directory oldname onto an empty directory
// made at newname for it. Mkdir fails if newname exists; rename(2) then
// replaces only that empty directory, and fails if another process has
// put anything in it meanwhile (then the directory is theirs and stays).
// (os.Rename refuses any existing directory, so rename(2) is called on
// the parents opened through r.)
func renameDirViaMkdir(r *os.Root, oldname, newname string) error {
	od, nd, err := openParents(r, oldname, newname)
	if err != nil {
		return err
	}
	defer od.Close()
	defer nd.Close()
	if err := r.Mkdir(newname, 0o700); err != nil {
		return err
	}
	if err := unix.Renameat(int(od.Fd()), filepath.Base(oldname), int(nd.Fd()), filepath.Base(newname)); err != nil {
		// Only an empty directory is removed: whatever another process
		// put at newname meanwhile is theirs and stays.
		if unix.Unlinkat(int(nd.Fd()), filepath.Base(newname), unix.AT_REMOVEDIR) != nil {
			return fs.ErrExist // filled by another process meanwhile: theirs now
		}
		return err
	}
	return nil
}
