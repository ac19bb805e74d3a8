//go:build windows

package fsx

import (
	"io/fs"
	"os"
)

// Windows has no FIFOs reachable by path and no O_NONBLOCK.
const ONonblock = 0

const (
	oNoctty    = 0
	oDirectory = 0
	oNofollow  = 0
)

// LinkCount is 1 on Windows: os.Stat does not report NTFS hard links
// (that needs GetFileInformationByHandle), so verify cannot warn there.
func LinkCount(fs.FileInfo) uint64 { return 1 }

func setBlocking(*os.File) error { return nil }
