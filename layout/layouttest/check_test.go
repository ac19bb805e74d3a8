package layouttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// good writes a layout with tag v1 on a manifest with one layer.
func good(t *testing.T) (string, ocispec.Manifest) {
	dir := t.TempDir()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	putB := func(mt string, b []byte) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
		if _, err := l.Blobs().Put(ctx, bytes.NewReader(b), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test", Config: putB(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		Layers: []ocispec.Descriptor{putB("application/octet-stream", []byte("layer bytes"))}}
	m.SchemaVersion = 2
	b, _ := json.Marshal(m)
	if _, err := l.Tag(ctx, "v1", putB(ocispec.MediaTypeImageManifest, b), layout.ConflictFail); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func blob(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", "sha256", d.Encoded())
}

// TestValidate checks that the checker passes a good layout and finds each
// kind of damage, so that a passing Check means something.
func TestValidate(t *testing.T) {
	dir, _ := good(t)
	if err := layouttest.Validate(dir); err != nil {
		t.Fatalf("good layout: %v", err)
	}
	cases := map[string]struct {
		hurt func(dir string, m ocispec.Manifest)
		want string
	}{
		"flipped layer byte": {func(d string, m ocispec.Manifest) {
			os.WriteFile(blob(d, m.Layers[0].Digest), []byte("layer byteZ"), 0o644)
		}, "content is sha256:"},
		"missing layer": {func(d string, m ocispec.Manifest) { os.Remove(blob(d, m.Layers[0].Digest)) }, "layer 0 of"},
		"symlinked layer": {func(d string, m ocispec.Manifest) {
			p := blob(d, m.Layers[0].Digest)
			os.Rename(p, p+".real")
			os.Symlink(p+".real", p)
		}, "not a regular file"},
		"staging left": {func(d string, _ ocispec.Manifest) { os.MkdirAll(filepath.Join(d, ".oci-pack", "tmp", "1-x"), 0o700) }, "staging left behind"},
		"stray blob": {func(d string, _ ocispec.Manifest) {
			os.WriteFile(filepath.Join(d, "blobs", "sha256", "tmp123"), nil, 0o644)
		}, "not named by a valid digest"},
		"unverified blob": {func(d string, _ ocispec.Manifest) { os.WriteFile(blob(d, digest.FromString("a")), []byte("b"), 0o644) }, "unreferenced blob"},
		"torn index": {func(d string, _ ocispec.Manifest) {
			os.WriteFile(filepath.Join(d, "index.json"), []byte(`{"schemaVersion":2,`), 0o644)
		}, "index.json"},
		"bad layout file": {func(d string, _ ocispec.Manifest) {
			os.WriteFile(filepath.Join(d, "oci-layout"), []byte(`{"imageLayoutVersion":"9"}`), 0o644)
		}, "imageLayoutVersion"},
		"duplicate tag": {func(d string, _ ocispec.Manifest) {
			b, _ := os.ReadFile(filepath.Join(d, "index.json"))
			var idx ocispec.Index
			json.Unmarshal(b, &idx)
			idx.Manifests = append(idx.Manifests, idx.Manifests[0])
			b, _ = json.Marshal(idx)
			os.WriteFile(filepath.Join(d, "index.json"), b, 0o644)
		}, `tag "v1" listed twice`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir, m := good(t)
			c.hurt(dir, m)
			err := layouttest.Validate(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate = %v, want a problem containing %q", err, c.want)
			}
		})
	}
}
