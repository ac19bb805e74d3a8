//go:build linux || darwin || freebsd

package extract

import "golang.org/x/sys/unix"

// freeSpace is the bytes available to an unprivileged user on dir's file
// system, or -1 when unknown.
func freeSpace(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
