//go:build unix

package fsx

import (
	"io/fs"
	"os"
	"syscall"
)

// ONonblock keeps an open of a FIFO from blocking; it has no effect on
// regular files.
const ONonblock = syscall.O_NONBLOCK

// oNoctty keeps a terminal opened as an output from becoming the
// process's controlling terminal.
const oNoctty = syscall.O_NOCTTY

// oNofollow makes an open fail if the last element is a symlink.
const oNofollow = syscall.O_NOFOLLOW

// oDirectory makes an open fail unless the path is a directory.
const oDirectory = syscall.O_DIRECTORY

// LinkCount is the number of hard links to the file fi describes (1 when
// the platform does not say).
func LinkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// setBlocking clears O_NONBLOCK on f: a FIFO opened non-blocking (so the
// open could not hang) is then written like any other, on every platform
// (Darwin's poller does not take FIFOs).
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
