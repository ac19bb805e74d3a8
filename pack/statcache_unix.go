//go:build linux || darwin

package pack

import (
	"os"
	"syscall"
)

// fileStamp reads identity and change stamps from a Unix stat.
func fileStamp(fi os.FileInfo) (stamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return stamp{}, false
	}
	return stamp{
		dev:   uint64(st.Dev),
		ino:   uint64(st.Ino),
		size:  fi.Size(),
		mtime: fi.ModTime().UnixNano(),
		ctime: ctimeNs(st),
	}, true
}
