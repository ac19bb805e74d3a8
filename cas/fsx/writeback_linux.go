package fsx

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the n bytes at off of f
// to disk now, without waiting: SYNC_FILE_RANGE_WRITE. The fsync before
// Commit's rename still makes the blob durable; this only keeps the dirty
// pages from piling up until then, so that fsync has little left to do
// and the disk works while the CPU hashes the next bytes. Errors are
// ignored: the fsync reports any that matter.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
