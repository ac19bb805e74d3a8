//go:build unix

package adversarial

import (
	"syscall"
	"testing"
)

// freeBytes is the free space of dir's file system.
func freeBytes(t testing.TB, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
