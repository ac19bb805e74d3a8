//go:build unix

package cas

import (
	"io/fs"
	"syscall"
)

// oNonblock keeps an open of a FIFO from blocking; it has no effect on
// regular files.
const oNonblock = syscall.O_NONBLOCK

// linkCount is the number of hard links to the file fi describes (1 when
// the platform does not say).
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
