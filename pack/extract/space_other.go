//go:build !(linux || darwin || freebsd)

package extract

// freeSpace is unknown here: -1 (no default bound).
func freeSpace(dir string) int64 { return -1 }
