package fsx

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func clone(dst, src *os.File) error {
	err := ignoringEINTR(func() error { return unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())) })
	if err == nil {
		return nil
	}
	if unsupported(err) {
		// FICLONE either shares every extent or fails; a failure part
		// way (say ENOSPC in a later transaction) is a real error, but
		// make sure the caller's fallback starts from an empty file.
		if terr := dst.Truncate(0); terr != nil {
			return fmt.Errorf("clone: %w (and emptying the target: %v)", err, terr)
		}
		return fmt.Errorf("clone: %w (%w)", errors.ErrUnsupported, err)
	}
	return &os.PathError{Op: "clone", Path: dst.Name(), Err: err}
}

func (c *RangeCopier) copyRange(off int64, n int) (int, error) {
	if !c.sendfile {
		var k int
		err := ignoringEINTR(func() (err error) {
			in, out := off, off
			k, err = unix.CopyFileRange(int(c.Src.Fd()), &in, int(c.Dst.Fd()), &out, n, 0)
			return err
		})
		switch {
		case err == nil:
			return k, nil
		case off != 0 || !unsupported(err):
			return 0, &os.PathError{Op: "copy_file_range", Path: c.Dst.Name(), Err: err}
		}
		// Since Linux 5.19 copy_file_range refuses most pairs of
		// different file systems; sendfile splices across them.
		c.sendfile = true
		if _, err := c.Dst.Seek(0, 0); err != nil {
			return 0, err
		}
	}
	var k int
	err := ignoringEINTR(func() (err error) {
		in := off
		k, err = unix.Sendfile(int(c.Dst.Fd()), int(c.Src.Fd()), &in, n)
		return err
	})
	switch {
	case err == nil:
		return k, nil
	case off == 0 && unsupported(err):
		return 0, fmt.Errorf("kernel copy: %w (%w)", errors.ErrUnsupported, err)
	}
	return 0, &os.PathError{Op: "sendfile", Path: c.Dst.Name(), Err: err}
}

func flushWait(f *os.File) error {
	const all = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
	err := ignoringEINTR(func() error { return unix.SyncFileRange(int(f.Fd()), 0, 0, all) })
	if err != nil && unsupported(err) {
		return fmt.Errorf("sync_file_range: %w (%w)", errors.ErrUnsupported, err)
	}
	return err
}

func cloneFS(f *os.File) bool {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(int(f.Fd()), &st) }); err != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC, unix.BCACHEFS_SUPER_MAGIC:
		return true
	}
	return false
}

// unsupported: the errors a kernel copy or clone gives when it cannot
// work on these files here (not a failure of the disk or of space).
func unsupported(err error) bool {
	switch err {
	case unix.EXDEV, unix.EINVAL, unix.EOPNOTSUPP, unix.ENOSYS, unix.ENOTTY, unix.EBADF, unix.EPERM, unix.ETXTBSY, unix.EISDIR, unix.ESPIPE:
		return true
	}
	return false
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}
