//go:build unix && !linux && !darwin

package fsx

import "os"

func renameDir(r *os.Root, oldname, newname string) error {
	return renameDirViaMkdir(r, oldname, newname)
}
