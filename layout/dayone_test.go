package layout_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestTree lists every descriptor as its document lists it: a digest
// listed again is there, marked with where it was first.
func TestTree(t *testing.T) {
	l := openRW(t, t.TempDir())
	empty := put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	x := put(t, l, "application/octet-stream", []byte("shared bytes"))
	m := putJSON(t, l, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test",
		Config: empty, Layers: []ocispec.Descriptor{x, x, empty},
	})
	idx := putJSON(t, l, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specsV2, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{m, m}})
	tree, err := l.Tree(ctx, layout.Node{Descriptor: idx, Role: "all"}, layout.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Children) != 2 || tree.Children[1].RepeatOf != "manifest 0 of all" || tree.Children[1].Doc != nil {
		t.Fatalf("index members: %+v", tree.Children)
	}
	first := tree.Children[0]
	if first.Doc == nil || len(first.Children) != 4 {
		t.Fatalf("manifest 0: %+v", first)
	}
	var got []string
	for _, c := range first.Children {
		got = append(got, c.Role+"="+c.RepeatOf)
	}
	want := "config= layer 0= layer 1=layer 0 of manifest 0 of all layer 2=config of manifest 0 of all"
	if strings.Join(got, " ") != want {
		t.Fatalf("children %q, want %q", strings.Join(got, " "), want)
	}
}

// TestDiscard removes a layout that holds nothing and nobody has open
// (blobs a refused command staged go with it), and only such a one.
func TestDiscard(t *testing.T) {
	dir := t.TempDir() + "/new"
	l := openRW(t, dir)
	putArtifact(t, l, "staged before a refusal")
	if ok, err := layout.Discard(dir); ok || !errors.Is(err, layout.ErrLocked) {
		t.Fatalf("Discard of a layout in use: %v, %v", ok, err)
	}
	l.Close()
	if ok, err := layout.Discard(dir); !ok || err != nil {
		t.Fatalf("Discard of an empty layout: %v, %v", ok, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the layout is still there: %v", err)
	}
	kept, _ := goodLayout(t)
	if ok, err := layout.Discard(kept); ok || err != nil {
		t.Fatalf("Discard of a layout with tags: %v, %v", ok, err)
	}
	layouttest.Check(t, kept)
	// A new layout holding only what an interrupted import keeps for its
	// re-run stays: discarding it would throw the checkpoint away.
	resumed := t.TempDir() + "/resumed"
	openRW(t, resumed).Close()
	if err := os.MkdirAll(filepath.Join(resumed, layout.ResumeDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(resumed, layout.ResumeDir, "import-0.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := layout.Discard(resumed); ok || err != nil {
		t.Fatalf("Discard of a new layout with an import's checkpoint: %v, %v", ok, err)
	}
}

// TestWaitingTold: a lock wait is announced once, naming the lock.
func TestWaitingTold(t *testing.T) {
	dir, _ := goodLayout(t)
	openRW(t, dir)
	var told []string
	_, err := layout.Open(dir, layout.Options{Mode: layout.Exclusive, LockTimeout: 300 * time.Millisecond,
		Waiting: func(what string, holders []string) { told = append(told, what) }})
	if !errors.Is(err, layout.ErrLocked) || len(told) != 1 || !strings.Contains(told[0], dir) {
		t.Fatalf("Open = %v, told %q; want ErrLocked and one notice naming %s", err, told, dir)
	}
	told = nil
	layout.Open(dir, layout.Options{Mode: layout.Exclusive, LockTimeout: 0, Waiting: func(what string, _ []string) { told = append(told, what) }})
	if len(told) != 0 {
		t.Fatalf("no wait (timeout 0), but told %q", told)
	}
}

var specsV2 = specs.Versioned{SchemaVersion: 2}
