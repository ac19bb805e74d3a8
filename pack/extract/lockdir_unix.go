//go:build unix

package extract

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// canLockDirs: flock works on directories here.
const canLockDirs = true

// lockDir takes an exclusive flock on the open directory f without
// waiting; false means another process holds it.
func lockDir(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case !errors.Is(err, syscall.EINTR):
			return false, err
		}
	}
}
