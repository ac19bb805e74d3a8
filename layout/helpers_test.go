package layout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cas/testsuite"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var ctx = context.Background()

// openRW opens (creating) the layout in dir for writing; Close is deferred
// to the test's cleanup unless the test closes it first.
func openRW(t *testing.T, dir string) *layout.Layout {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true, LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func open(t *testing.T, dir string, mode layout.Mode) (*layout.Layout, error) {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: mode, LockTimeout: 2 * time.Second})
	if err == nil {
		t.Cleanup(func() { l.Close() })
	}
	return l, err
}

// put stores b with media type mt.
func put(t *testing.T, l *layout.Layout, mt string, b []byte) ocispec.Descriptor {
	t.Helper()
	res, err := l.Blobs().Put(ctx, bytes.NewReader(b), testsuite.Desc(mt, b))
	if err != nil {
		t.Fatal(err)
	}
	return res.Descriptor
}

func putJSON(t *testing.T, l *layout.Layout, mt string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return put(t, l, mt, b)
}

// artifact is a small stored artifact: manifest, empty config, two layers.
type artifact struct {
	manifest ocispec.Descriptor
	layers   []ocispec.Descriptor
}

// putArtifact stores an artifact whose layers hold seed-derived bytes.
func putArtifact(t *testing.T, l *layout.Layout, seed string) artifact {
	t.Helper()
	cfg := put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	a := artifact{layers: []ocispec.Descriptor{
		put(t, l, "application/octet-stream", testsuite.Content(seed+"/0", 4096)),
		put(t, l, "application/octet-stream", testsuite.Content(seed+"/1", 3000)),
	}}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test.v1", Config: cfg, Layers: a.layers}
	m.SchemaVersion = 2
	a.manifest = putJSON(t, l, ocispec.MediaTypeImageManifest, m)
	return a
}

// tag points name at d in l, failing the test on error.
func tag(t *testing.T, l *layout.Layout, name string, d ocispec.Descriptor) {
	t.Helper()
	if _, err := l.Tag(ctx, name, d, layout.ConflictFail); err != nil {
		t.Fatal(err)
	}
}

// goodLayout is RELIABILITY's good/: a layout with tag v1 on one artifact.
// The layout is closed on return.
func goodLayout(t *testing.T) (string, artifact) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "good")
	l := openRW(t, dir)
	a := putArtifact(t, l, "good")
	tag(t, l, "v1", a.manifest)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, a
}

func blobFile(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
