//go:build !unix && !windows

package archive

// freeSpace is unknown on this platform: -1 means no limit.
func freeSpace(dir string) (int64, error) { return -1, nil }
