// Package fsx holds the file-system primitives the other packages share:
// opening a path only if it is a regular file (never blocking on a FIFO),
// fsyncing a directory, early writeback for files that will be fsynced,
// and names for file and tar entry kinds in messages. It is a leaf: it
// knows nothing of blobs, layouts or artifacts.
package fsx

import "errors"

// ErrNotRegular: a path exists but is not a regular file (symlink, FIFO,
// device, directory, socket).
var ErrNotRegular = errors.New("not a regular file")
