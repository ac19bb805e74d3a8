//go:build linux || darwin || freebsd || netbsd || openbsd

package cas

import (
	"os"
	"syscall"
)

func fingerprintOf(fi os.FileInfo) (Fingerprint, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Fingerprint{}, false
	}
	return Fingerprint{
		Dev:   uint64(st.Dev),
		Ino:   uint64(st.Ino),
		Size:  fi.Size(),
		Mtime: fi.ModTime().UnixNano(),
		Ctime: ctimeNs(st),
	}, true
}
