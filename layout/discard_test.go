package layout_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
)

// TestDiscardKeepsEntries: Discard removes a new layout that holds no
// index entry (blobs and all) and leaves one that has entries.
func TestDiscardKeepsEntries(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "new")
	l := openRW(t, empty)
	putArtifact(t, l, "staged before a refusal")
	l.Close()
	if ok, err := layout.Discard(empty); !ok || err != nil {
		t.Fatalf("Discard of an empty layout = %v, %v", ok, err)
	}
	if _, err := os.Lstat(empty); err == nil {
		t.Fatal("the empty layout is still there")
	}
	dir, _ := goodLayout(t)
	if ok, err := layout.Discard(dir); ok || err != nil {
		t.Fatalf("Discard of a layout with a tag = %v, %v", ok, err)
	}
	layouttest.Check(t, dir)
}
