//go:build windows

package fsx

import "os"

// renameDir on Windows: MoveFileEx never replaces a directory, so the
// check before it only guards against a file at newname.
func renameDir(r *os.Root, oldname, newname string) error {
	return checkThenRename(r, oldname, newname)
}
