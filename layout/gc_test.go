package layout_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/go-digest"
)

func gc(t *testing.T, dir string, dry bool) *layout.GCResult {
	t.Helper()
	l, err := open(t, dir, layout.Exclusive)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := l.GC(ctx, dry)
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	return res
}

// TestGC: unreachable blobs go (dry run first: nothing goes), reachable
// ones stay, stale staging of dead processes goes, a live process's
// staging stays.
func TestGC(t *testing.T) {
	dir, _ := goodLayout(t)
	l := openRW(t, dir)
	junk := putArtifact(t, l, "junk") // untagged: unreachable but its config
	l.Close()
	tmp := filepath.Join(dir, ".oci-pack", "tmp")
	dead := filepath.Join(tmp, "999999-dead")
	os.MkdirAll(dead, 0o700)
	os.WriteFile(filepath.Join(dead, ".lock"), nil, 0o644)
	os.WriteFile(filepath.Join(dead, "blob-0123"), []byte("half a blob"), 0o600)
	os.WriteFile(filepath.Join(tmp, "index.json.init-abc"), []byte("{}"), 0o644)
	live := filepath.Join(tmp, "1-live")
	os.MkdirAll(live, 0o700)
	lk, err := os.Create(filepath.Join(live, ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := lockExclusive(lk); err != nil {
		t.Skipf("cannot hold a staging lock here: %v", err)
	}
	os.WriteFile(filepath.Join(live, "blob-4567"), []byte("being written"), 0o600)

	wantBlobs := []digest.Digest{junk.manifest.Digest, junk.layers[0].Digest, junk.layers[1].Digest}
	slices.Sort(wantBlobs)
	wantStaging := []string{".oci-pack/tmp/999999-dead", ".oci-pack/tmp/index.json.init-abc"}
	check := func(res *layout.GCResult) {
		t.Helper()
		var got []digest.Digest
		for _, b := range res.Blobs {
			got = append(got, b.Digest)
		}
		staging := slices.Sorted(slices.Values(res.Staging))
		if !slices.Equal(got, wantBlobs) || res.Bytes != junk.manifest.Size+junk.layers[0].Size+junk.layers[1].Size || !slices.Equal(staging, wantStaging) {
			t.Fatalf("GC = blobs %v (%d bytes), staging %q; want %v, %q", got, res.Bytes, staging, wantBlobs, wantStaging)
		}
	}
	check(gc(t, dir, true))
	for _, d := range wantBlobs {
		if _, err := os.Stat(blobFile(dir, d)); err != nil {
			t.Fatalf("dry-run deleted %s", d)
		}
	}
	if _, err := os.Stat(dead); err != nil {
		t.Fatal("dry-run deleted stale staging")
	}
	check(gc(t, dir, false))
	for _, d := range wantBlobs {
		if _, err := os.Stat(blobFile(dir, d)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("gc left unreachable %s", d)
		}
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("gc left a dead process's staging")
	}
	if b, err := os.ReadFile(filepath.Join(live, "blob-4567")); err != nil || string(b) != "being written" {
		t.Fatalf("gc touched a live process's staging: %q, %v", b, err)
	}
	if rep := verify(t, dir, layout.VerifyOptions{}); len(rep.Problems) != 0 || rep.Blobs != 4 {
		t.Fatalf("verify after gc: %+v", rep)
	}
	lk.Close()
	os.RemoveAll(live)
	layouttest.Check(t, dir)
}

func TestGCNeedsExclusive(t *testing.T) {
	dir, _ := goodLayout(t)
	l := openRW(t, dir)
	if _, err := l.GC(ctx, true); err == nil {
		t.Fatal("GC on a layout opened ReadWrite succeeded")
	}
}

// TestGCUnreadableManifestDeletesNothing: when a reachable manifest cannot
// be read, its children are unknown, so nothing at all is deleted.
func TestGCUnreadableManifestDeletesNothing(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	junk := putArtifact(t, l, "junk")
	l.Close()
	os.Remove(blobFile(dir, a.manifest.Digest))
	x, err := open(t, dir, layout.Exclusive)
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.GC(ctx, false)
	if err == nil || !strings.Contains(err.Error(), "deleting nothing") {
		t.Fatalf("GC with a missing manifest = %v, want it to delete nothing", err)
	}
	for _, d := range append(a.layers, junk.manifest) {
		if _, err := os.Stat(blobFile(dir, d.Digest)); err != nil {
			t.Fatalf("GC deleted %s although the graph was unreadable", d.Digest)
		}
	}
}
