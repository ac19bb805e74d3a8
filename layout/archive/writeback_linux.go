//go:build linux

package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing [off, off+n) of f to
// disk without waiting. With plenty of RAM the kernel would otherwise hold
// a whole multi-GB volume dirty until the final fsync, which then writes
// it all at once; started early, the disk works while we hash.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE) // advisory
}
