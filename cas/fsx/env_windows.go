//go:build windows

package fsx

import "syscall"

// environmentErrnos are the system errors of IsEnvironment (besides
// fs.ErrPermission, which covers access denied).
var environmentErrnos = []error{
	syscall.Errno(4),    // ERROR_TOO_MANY_OPEN_FILES
	syscall.Errno(8),    // ERROR_NOT_ENOUGH_MEMORY
	syscall.Errno(14),   // ERROR_OUTOFMEMORY
	syscall.Errno(19),   // ERROR_WRITE_PROTECT
	syscall.Errno(23),   // ERROR_CRC (a read error on the medium)
	syscall.Errno(32),   // ERROR_SHARING_VIOLATION
	syscall.Errno(33),   // ERROR_LOCK_VIOLATION
	syscall.Errno(39),   // ERROR_HANDLE_DISK_FULL
	syscall.Errno(112),  // ERROR_DISK_FULL
	syscall.Errno(1117), // ERROR_IO_DEVICE
	syscall.ENOSPC, syscall.EIO, syscall.EMFILE, syscall.EROFS, syscall.EXDEV,
}
