package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// fileLock is an advisory lock (flock on Unix, LockFileEx on Windows) on a
// dedicated lock file that is never replaced or deleted, so every process
// locks the same inode. The kernel drops it when the process dies.
type fileLock struct {
	f *os.File
}

// lockFile takes a shared or exclusive lock on the file rel inside the
// layout (created if missing), polling until timeout or until ctx is done.
// timeout < 0 waits forever; 0 tries once. what names the lock in errors.
//
// The lock file is opened through the layout's os.Root and must be a
// regular file: a symlink planted in its place (a layout unpacked with
// plain tar, a shared stick) is refused, so locking never creates or
// opens anything outside the layout, nor another file inside it.
func (l *Layout) lockFile(ctx context.Context, rel string, exclusive bool, timeout time.Duration, what string) (*fileLock, error) {
	f, err := l.openLockFile(rel)
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", what, err)
	}
	path := filepath.Join(l.dir, rel)
	start := time.Now()
	wait := 5 * time.Millisecond
	told := false
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
		if !told && timeout != 0 && l.opts.Waiting != nil {
			told = true
			l.opts.Waiting(what, lockHolders(path))
		}
		if timeout >= 0 && waited >= timeout {
			f.Close()
			holders := lockHolders(path)
			by := ""
			if len(holders) > 0 {
				by = " by " + strings.Join(holders, ", ")
			}
			return nil, fmt.Errorf("%s locked%s, waited %s: %w", what, by, waited.Round(time.Millisecond), ErrLocked)
		}
		sleep := wait
		if timeout >= 0 && waited+sleep > timeout {
			sleep = timeout - waited
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for the lock on %s: %w", what, ctx.Err())
		case <-t.C:
		}
		if wait < 200*time.Millisecond {
			wait *= 2
		}
	}
}

// openLockFile opens (creating if missing) the lock file rel through the
// layout's root, refusing anything but a regular file. A user who may
// only read the layout gets a read-only descriptor: flock works on it, so
// readers still take part in the locking.
func (l *Layout) openLockFile(rel string) (*os.File, error) {
	if fi, err := l.root.Lstat(rel); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", filepath.Join(l.dir, rel), fsx.FileKind(fi.Mode()))
	}
	f, err := l.root.OpenFile(rel, os.O_RDWR|os.O_CREATE|fsx.ONonblock, 0o644)
	if err != nil && (errors.Is(err, fs.ErrPermission) || isReadOnlyFS(err)) {
		var rerr error
		if f, rerr = l.root.OpenFile(rel, os.O_RDONLY|fsx.ONonblock, 0); !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr // else the lock file could not be created: that error says why
		}
	}
	if err != nil {
		return nil, err // names the lock file
	}
	// Checked again on the descriptor: the name may have been swapped
	// between the Lstat and the open.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s: not a regular file (%s)", filepath.Join(l.dir, rel), fsx.FileKind(fi.Mode()))
		}
		return nil, err
	}
	return f, nil
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
