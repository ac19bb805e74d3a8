//go:build unix

package fsx

import (
	"io/fs"
	"syscall"
)

// ONonblock keeps an open of a FIFO from blocking; it has no effect on
// regular files.
const ONonblock = syscall.O_NONBLOCK

// LinkCount is the number of hard links to the file fi describes (1 when
// the platform does not say).
func LinkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
