//go:build !linux && !darwin

package pack

import "os"

// fileStamp: Windows stat has no ctime, which the cache needs to notice an
// in-place change with a restored mtime, so nothing is cached there.
func fileStamp(os.FileInfo) (stamp, bool) { return stamp{}, false }
