package pack_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var ctx = context.Background()

// packInto packs in into the layout dir (created if needed), tags the
// result v1 (moving the tag), and closes the layout.
func packInto(t *testing.T, dir string, in []pack.Input, o pack.Options) *pack.Result {
	t.Helper()
	res, err := tryPack(dir, in, o)
	if err != nil {
		t.Fatalf("pack into %s: %v", dir, err)
	}
	return res
}

func tryPack(dir string, in []pack.Input, o pack.Options) (*pack.Result, error) {
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true, LockTimeout: time.Minute})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	res, err := pack.Pack(ctx, l, in, o)
	if err != nil {
		return nil, err
	}
	if _, err := l.Tag(ctx, "v1", res.Manifest, layout.ConflictOverwrite); err != nil {
		return nil, err
	}
	return res, l.Close()
}

func inputs(paths ...string) []pack.Input {
	var in []pack.Input
	for _, p := range paths {
		in = append(in, pack.Input{Path: p})
	}
	return in
}

func readBlob(t *testing.T, dir string, d digest.Digest) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func manifestOf(t *testing.T, dir string, d digest.Digest) ocispec.Manifest {
	t.Helper()
	var m ocispec.Manifest
	if err := json.Unmarshal(readBlob(t, dir, d), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// tarEntry is one entry of a layer's tar, with its content.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// readTar decompresses layer desc of layout dir and lists its tar entries.
func readTar(t *testing.T, dir string, desc ocispec.Descriptor) []tarEntry {
	t.Helper()
	_, alg := compress.FromMediaType(desc.MediaType)
	r, err := compress.NewReader(bytes.NewReader(readBlob(t, dir, desc.Digest)), alg, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []tarEntry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("layer %s: %v", desc.Digest, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr: h, data: b})
	}
}

// mkfile writes content to dir/rel with mode, creating parents.
func mkfile(t *testing.T, dir, rel string, content []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertNoTags checks that the layout at dir, if it exists, has no tags.
func assertNoTags(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if os.IsNotExist(err) {
		return
	}
	idx, err := layout.ParseIndex(b)
	if err != nil || len(layout.Tags(idx)) != 0 {
		t.Fatalf("index.json after a failed pack: %s (%v)", b, err)
	}
}

// mustPreset looks a preset up by name.
func mustPreset(t testing.TB, name string) *pack.Preset {
	t.Helper()
	p, err := pack.LookupPreset(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
