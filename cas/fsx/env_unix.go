//go:build unix

package fsx

import "syscall"

// environmentErrnos are the system errors of IsEnvironment (besides
// fs.ErrPermission, which covers EACCES and EPERM).
var environmentErrnos = []error{
	syscall.EMFILE, syscall.ENFILE, syscall.EIO, syscall.ENOSPC, syscall.EDQUOT,
	syscall.EROFS, syscall.EFBIG, syscall.ENOMEM, syscall.ENOBUFS, syscall.ENOLCK,
	syscall.ESTALE, syscall.ETIMEDOUT, syscall.ENOTCONN, syscall.EXDEV, syscall.EBUSY,
	syscall.ETXTBSY,
}
