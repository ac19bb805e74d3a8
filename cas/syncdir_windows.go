//go:build windows

package cas

import "os"

// syncDir is a no-op on Windows: a directory cannot be opened for
// FlushFileBuffers there, and NTFS journals its metadata, so a completed
// MoveFileEx is as durable as the platform lets us make it.
func syncDir(r *os.Root, rel string) error { return nil }

// SyncDir is syncDir for other packages.
func SyncDir(r *os.Root, rel string) error { return syncDir(r, rel) }
