//go:build unix

package cas

import "syscall"

// oNonblock keeps an open of a FIFO from blocking; it has no effect on
// regular files.
const oNonblock = syscall.O_NONBLOCK
