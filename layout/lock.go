package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// fileLock is an advisory lock (flock on Unix, LockFileEx on Windows) on a
// dedicated lock file that is never replaced or deleted, so every process
// locks the same inode. The kernel drops it when the process dies.
type fileLock struct {
	f *os.File
}

// lockFile takes a shared or exclusive lock on path (created if missing),
// polling until timeout. timeout < 0 waits forever; 0 tries once. what
// names the lock in errors.
func lockFile(path string, exclusive bool, timeout time.Duration, what string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil && (errors.Is(err, fs.ErrPermission) || isReadOnlyFS(err)) {
		// flock works on a read-only descriptor: a user who may only read
		// the layout still takes part in its locking.
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", what, err) // err names the lock file
	}
	start := time.Now()
	wait := 5 * time.Millisecond
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return &fileLock{f: f}, nil
		}
		waited := time.Since(start)
		if timeout >= 0 && waited >= timeout {
			f.Close()
			holders := lockHolders(path)
			by := ""
			if len(holders) > 0 {
				by = " by " + strings.Join(holders, ", ")
			}
			return nil, fmt.Errorf("%s locked%s, waited %s (see --lock-timeout): %w", what, by, waited.Round(time.Millisecond), ErrLocked)
		}
		sleep := wait
		if timeout >= 0 && waited+sleep > timeout {
			sleep = timeout - waited
		}
		time.Sleep(sleep)
		if wait < 200*time.Millisecond {
			wait *= 2
		}
	}
}

// unlock releases the lock. Safe on nil.
func (l *fileLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	cerr := l.f.Close()
	l.f = nil
	return errors.Join(err, cerr)
}
