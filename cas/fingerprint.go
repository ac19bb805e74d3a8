package cas

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Fingerprint identifies a file and its last change: what changes when
// anything writes, truncates, replaces or renames it. The kernel sets
// ctime on every such change and no user call can set it back, so a file
// whose fingerprint is unchanged has not been written since it was taken
// (up to one tick of the file system's clock, see Racy).
type Fingerprint struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // ns since the epoch
}

// FingerprintOf reads fi's fingerprint; false where the platform has no
// inode numbers or no ctime (Windows), so nothing can be trusted unread.
func FingerprintOf(fi os.FileInfo) (Fingerprint, bool) { return fingerprintOf(fi) }

// coarseWindow is the timestamp resolution of the coarsest file systems
// a layout may live on (FAT: 2 s).
const coarseWindow = 2 * time.Second

// Racy reports whether a change made in the same clock tick as fp was
// taken could leave fp unchanged, so fp must not be trusted as proof of
// "not changed since": the stamps are whole seconds (a file system with
// coarse timestamps) and lie within coarseWindow of now. File systems
// with nanosecond stamps are trusted at once.
func (fp Fingerprint) Racy(now time.Time) bool {
	if fp.Mtime%1e9 != 0 || fp.Ctime%1e9 != 0 {
		return false
	}
	limit := now.Add(-coarseWindow).UnixNano()
	return fp.Mtime >= limit || fp.Ctime >= limit
}

// String is the fingerprint as a file-name-safe token: five lower-case
// hex fields joined by "-" (at most 84 bytes).
func (fp Fingerprint) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", fp.Dev, fp.Ino, uint64(fp.Size), uint64(fp.Mtime), uint64(fp.Ctime))
}

// parseFingerprint is String's inverse.
func parseFingerprint(s string) (Fingerprint, bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 5 {
		return Fingerprint{}, false
	}
	var v [5]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 16, 64)
		if err != nil || p != strconv.FormatUint(n, 16) {
			return Fingerprint{}, false
		}
		v[i] = n
	}
	return Fingerprint{Dev: v[0], Ino: v[1], Size: int64(v[2]), Mtime: int64(v[3]), Ctime: int64(v[4])}, true
}
