//go:build windows

package fsx

import "io/fs"

// Windows has no FIFOs reachable by path and no O_NONBLOCK.
const ONonblock = 0

// LinkCount is 1 on Windows: os.Stat does not report NTFS hard links
// (that needs GetFileInformationByHandle), so verify cannot warn there.
func LinkCount(fs.FileInfo) uint64 { return 1 }
