//go:build windows

package cas

import "io/fs"

// Windows has no FIFOs reachable by path and no O_NONBLOCK.
const oNonblock = 0

// linkCount is 1 on Windows: os.Stat does not report NTFS hard links
// (that needs GetFileInformationByHandle), so verify cannot warn there.
func linkCount(fs.FileInfo) uint64 { return 1 }
