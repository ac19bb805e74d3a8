package layout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Discard removes the layout at dir if it holds no index entries, keeps
// nothing an interrupted transfer left for a re-run (ResumeDir: an
// import's checkpoint, a pull's), and no other process has it open (its
// gc lock is taken exclusively, without waiting). A command that created
// a layout and then failed calls it, so that nothing is left behind;
// blobs the command stored there go with it. It reports whether the
// layout was removed.
func Discard(dir string) (bool, error) {
	l, err := Open(dir, Options{Mode: Exclusive, LockTimeout: 0})
	if err != nil {
		return false, err
	}
	defer l.Close()
	idx, err := l.Index(context.Background())
	if err != nil {
		return false, err
	}
	if len(idx.Manifests) > 0 {
		return false, nil
	}
	if kept, _ := os.ReadDir(filepath.Join(dir, filepath.FromSlash(ResumeDir))); len(kept) > 0 {
		return false, nil // what a re-run continues from
	}
	// Removed under the lock: no other oci-pack process is inside.
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("remove the new layout %s: %w", dir, err)
	}
	return true, nil
}
