//go:build unix

package testsuite

import "golang.org/x/sys/unix"

// mkfifo creates a named pipe at p.
func mkfifo(p string) error { return unix.Mkfifo(p, 0o644) }

// mkdev creates a character device at p with /dev/null's numbers (needs
// CAP_MKNOD; the caller skips without it).
func mkdev(p string) error { return unix.Mknod(p, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))) }
