//go:build unix

package layout_test

import (
	"os"

	"golang.org/x/sys/unix"
)

func mkfifo(p string) error { return unix.Mkfifo(p, 0o644) }

// lockExclusive takes the flock a live process holds on its staging lock.
func lockExclusive(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_EX) }
