//go:build windows

package fsx

import "os"

// SyncDir is a no-op on Windows: a directory cannot be opened for
// FlushFileBuffers there, and NTFS journals its metadata, so a completed
// MoveFileEx is as durable as the platform lets us make it.
func SyncDir(r *os.Root, rel string) error { return nil }
