package pack_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
)

// A Hugging Face cache snapshot is a directory of symlinks into the
// repository's blobs/: the modelpack preset follows them, classifies each
// file, records its path, and stores the bytes the link points to.
func TestModelPackHuggingFaceSnapshot(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "models--org--name")
	weights := []byte("bf16 weights, pretend")
	config := []byte(`{"model_type":"llama"}`)
	for name, b := range map[string][]byte{"blobs/w": weights, "blobs/c": config, "refs/main": []byte(rev)} {
		mkfile(t, repo, name, b, 0o644)
	}
	snap := filepath.Join(repo, "snapshots", rev)
	if err := os.MkdirAll(filepath.Join(snap, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"model.safetensors": "../../blobs/w", "config.json": "../../blobs/c", "sub/README.md": "../../../blobs/c"} {
		if err := os.Symlink(target, filepath.Join(snap, link)); err != nil {
			t.Fatal(err)
		}
	}
	res := packInto(t, t.TempDir(), []pack.Input{{Path: snap}}, pack.Options{Preset: mustPreset(t, "modelpack")})
	want := map[string]struct{ mediaType, sum string }{
		"config.json":       {pack.ModelPackWeightConfig, sha(config)},
		"model.safetensors": {pack.ModelPackWeight, sha(weights)},
		"sub/README.md":     {pack.ModelPackDoc, sha(config)},
	}
	if len(res.Layers) != len(want) {
		t.Fatalf("%d layers, want %d", len(res.Layers), len(want))
	}
	for _, l := range res.Layers {
		path := l.Descriptor.Annotations[pack.AnnotationModelFilepath]
		w, ok := want[path]
		if !ok {
			t.Errorf("unexpected layer %q", path)
			continue
		}
		if l.Descriptor.MediaType != w.mediaType || l.Descriptor.Digest.Encoded() != w.sum {
			t.Errorf("%s: %s %s, want %s sha256:%s", path, l.Descriptor.MediaType, l.Descriptor.Digest, w.mediaType, w.sum)
		}
	}
}

// A link out of the packed directory (not a snapshot's link into its
// repository) is refused, and packed only with AllowOutside.
func TestModelPackLinkOutside(t *testing.T) {
	outside := mkfile(t, t.TempDir(), "secret", []byte("host secret"), 0o600)
	dir := t.TempDir()
	mkfile(t, dir, "config.json", []byte("{}"), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "leak.bin")); err != nil {
		t.Fatal(err)
	}
	_, err := tryPack(t.TempDir(), []pack.Input{{Path: dir}}, pack.Options{Preset: mustPreset(t, "modelpack")})
	if !errors.Is(err, layout.ErrInvalidArgument) {
		t.Fatalf("pack with a link outside: %v, want a usage error", err)
	}
	res := packInto(t, t.TempDir(), []pack.Input{{Path: dir}}, pack.Options{Preset: mustPreset(t, "modelpack"), AllowOutside: true})
	if len(res.Layers) != 2 {
		t.Fatalf("with AllowOutside: %d layers, want 2", len(res.Layers))
	}
	if res.Layers[1].Descriptor.Digest.Encoded() != sha([]byte("host secret")) {
		t.Errorf("leak.bin layer is %s, want the link target's bytes", res.Layers[1].Descriptor.Digest)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
