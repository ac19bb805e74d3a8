package fsx

// Copies the kernel makes: a copy-on-write clone of a whole file, and
// byte ranges moved from one file's page cache into another's without
// passing through user space. Each returns an error wrapping
// errors.ErrUnsupported where the platform, the file systems or the pair
// of files cannot do it — the caller then takes the next way down
// (clone → kernel copy → read and write); any other error is real (ENOSPC,
// EIO) and must be reported, not retried another way.
//
// Never hard links: a later write to the input would change the stored
// copy behind the store's back.

import "os"

// Clone makes dst, an empty file open for writing, a copy-on-write clone
// of all of src (Linux FICLONE: XFS with reflink, btrfs, bcachefs). It is
// all or nothing: the file system shares src's extents with dst in one
// transaction, after writing back src's dirty pages, so dst holds src's
// bytes as they were at one instant. On an ErrUnsupported error dst is
// left empty.
func Clone(dst, src *os.File) error { return clone(dst, src) }

// RangeCopier moves byte ranges of Src to the same offsets of Dst inside
// the kernel (copy_file_range, or sendfile where copy_file_range cannot
// cross the two file systems). Ranges must be copied in order from offset
// 0, as sendfile writes at Dst's file position.
type RangeCopier struct {
	Dst, Src *os.File
	sendfile bool // copy_file_range refused these files; use sendfile
}

// Copy moves up to n bytes at off and returns how many it moved; 0 at
// the end of Src. An ErrUnsupported error means neither kernel copy works
// for these files (then nothing was moved).
func (c *RangeCopier) Copy(off int64, n int) (int, error) { return c.copyRange(off, n) }

// FlushWait writes back every dirty page of f and waits for it. Besides
// making f's bytes stable on disk, it write-protects every shared
// writable mapping of f (Linux cleans the pages' page-table entries), so
// that the next store through any mapping faults and updates f's mtime
// and ctime like a write(2) does. ErrUnsupported where there is no such
// call.
func FlushWait(f *os.File) error { return flushWait(f) }

// CloneFS reports whether f lives on a local file system that clones
// files (FICLONE) and sets mtime and ctime from the one system clock on
// every change of a file's bytes — writes, truncation, fallocate, clones
// into it, the first store through a mapping after FlushWait — so that an
// unchanged (device, inode, size, mtime, ctime) proves unchanged bytes, up
// to the clock's resolution: XFS, btrfs, bcachefs. (Network and FUSE file
// systems that clone take their stamps from elsewhere.)
func CloneFS(f *os.File) bool { return cloneFS(f) }

// StartWriteback asks the kernel to start writing the n bytes at off of f
// to disk now, without waiting (Linux; elsewhere nothing): see
// WritebackFile.
func StartWriteback(f *os.File, off, n int64) { startWriteback(f, off, n) }
