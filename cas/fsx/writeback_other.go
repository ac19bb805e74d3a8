//go:build !linux

package fsx

import "os"

// startWriteback is Linux's early writeback hint; elsewhere the fsync
// before Commit's rename does all the writing.
func startWriteback(*os.File, int64, int64) {}
