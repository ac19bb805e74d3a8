package fsx

import (
	"fmt"
	"os"
)

// OpenRegular opens rel under r for reading, refusing anything that is not a
// regular file. The Lstat before the open keeps FIFOs and devices from being
// opened at all (no hang); the (dev, inode) comparison after it catches a
// symlink swapped in between the two calls.
func OpenRegular(r *os.Root, rel string) (*os.File, error) {
	before, err := r.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", rel, ErrNotRegular, FileKind(before.Mode()))
	}
	f, err := r.OpenFile(rel, os.O_RDONLY|ONonblock, 0)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !after.Mode().IsRegular() || !os.SameFile(before, after) {
		f.Close()
		return nil, fmt.Errorf("%s: %w (replaced while opening)", rel, ErrNotRegular)
	}
	return f, nil
}
