package layout_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The index door refuses, for every caller, a tag of the reserved
// referrers form and an entry whose blob is not stored; nothing is
// written when it refuses.
func TestIndexEditRefuses(t *testing.T) {
	dir, a := goodLayout(t)
	before := readFile(t, filepath.Join(dir, "index.json"))
	l := openRW(t, dir)
	reserved := layout.ReferrersTag(a.manifest.Digest)
	absent := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("absent"), Size: 6}
	wrongSize := a.manifest
	wrongSize.Size++
	cases := map[string]struct {
		edit func(*layout.IndexEdit) error
		want error
	}{
		"reserved tag": {func(e *layout.IndexEdit) error {
			_, err := e.Tag(reserved, a.manifest, layout.ConflictOverwrite)
			return err
		}, layout.ErrInvalidTag},
		"bad grammar": {func(e *layout.IndexEdit) error { _, err := e.Tag("../x", a.manifest, layout.ConflictFail); return err }, layout.ErrInvalidTag},
		"tag absent":  {func(e *layout.IndexEdit) error { _, err := e.Tag("v2", absent, layout.ConflictFail); return err }, layout.ErrMissingBlob},
		"wrong size":  {func(e *layout.IndexEdit) error { _, err := e.Tag("v2", wrongSize, layout.ConflictFail); return err }, layout.ErrMissingBlob},
		"untagged":    {func(e *layout.IndexEdit) error { return e.AddUntagged(absent) }, layout.ErrMissingBlob},
		"referrer":    {func(e *layout.IndexEdit) error { return e.AddReferrers(absent) }, layout.ErrMissingBlob},
		"conflict":    {func(e *layout.IndexEdit) error { _, err := e.Tag("v1", wrongSize, layout.ConflictFail); return err }, layout.ErrMissingBlob},
	}
	for name, c := range cases {
		if err := l.UpdateIndex(ctx, c.edit); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := l.Tag(ctx, reserved, a.manifest, layout.ConflictFail); !errors.Is(err, layout.ErrInvalidTag) || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("Layout.Tag of a reserved name: %v", err)
	}
	if got := readFile(t, filepath.Join(dir, "index.json")); string(got) != string(before) {
		t.Fatal("index.json changed by refused edits")
	}
}

// A referrer recorded through the door is listed by Referrers, kept in its
// subject's sha256-<hex> index, and kept by gc while its subject is
// (TestGCReferrers: dropped once the subject is gone).
func TestAddReferrers(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	sig := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test.sig", Config: put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}")),
		Layers: []ocispec.Descriptor{put(t, l, "application/octet-stream", []byte("sig"))}, Subject: &a.manifest}
	sig.SchemaVersion = 2
	sd, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AddReferrers(ctx, sd); err != nil {
		t.Fatal(err)
	}
	if err := l.AddReferrers(ctx, sd); err != nil { // idempotent
		t.Fatal(err)
	}
	refs, err := l.Referrers(ctx, a.manifest.Digest, "")
	if err != nil || len(refs) != 1 || refs[0].Digest != sd.Digest || refs[0].ArtifactType != "application/vnd.test.sig" {
		t.Fatalf("Referrers = %+v, %v", refs, err)
	}
	idx, err := l.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rt, ok := layout.FindTag(idx, layout.ReferrersTag(a.manifest.Digest))
	if !ok {
		t.Fatal("no referrers-tag index for the subject")
	}
	doc, err := l.ReadDocument(ctx, rt)
	if err != nil || len(doc.Manifests) != 1 || doc.Manifests[0].Digest != sd.Digest {
		t.Fatalf("referrers-tag index = %+v, %v", doc, err)
	}
	l.Close()
	gcl, err := layout.Open(dir, layout.Options{Mode: layout.Exclusive})
	if err != nil {
		t.Fatal(err)
	}
	res, err := gcl.GC(ctx, false)
	gcl.Close()
	if err != nil || len(res.Blobs) != 0 {
		t.Fatalf("gc removed %+v, %v; want nothing", res, err)
	}
	if _, err := os.Stat(blobFile(dir, sd.Digest)); err != nil {
		t.Fatal(err)
	}
	layouttest.Check(t, dir)
}

// The document door refuses what a reader of the layout would refuse,
// before anything is stored.
func TestPutDocumentRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "L")
	l := openRW(t, dir)
	cfg := put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	manifest := func(at, layerType string) string {
		return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"` + at + `","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + cfg.Digest.String() + `","size":2},"layers":[{"mediaType":"` + layerType + `","digest":"` + cfg.Digest.String() + `","size":2}]}`
	}
	good := manifest("application/vnd.test.v1", "application/octet-stream")
	if _, err := l.PutDocument(ctx, ocispec.MediaTypeImageManifest, []byte(good)); err != nil {
		t.Fatalf("good manifest refused: %v", err)
	}
	bad := map[string]struct{ mt, doc string }{
		"artifactType grammar": {ocispec.MediaTypeImageManifest, manifest("not a media type", "application/octet-stream")},
		"layer media type":     {ocispec.MediaTypeImageManifest, manifest("application/vnd.test.v1", "octet stream")},
		"document media type":  {"not/a media type", `{"x":1}`},
		"duplicate key":        {"application/vnd.test.config.v1+json", `{"a":1,"a":2}`},
		"trailing data":        {"application/vnd.test.config.v1+json", `{}{}`},
		"both kinds":           {ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[],"layers":[]}`},
		"schema":               {ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + cfg.Digest.String() + `","size":2},"layers":[{"mediaType":"application/octet-stream","size":2}]}`},
		"over budget":          {"application/vnd.test.config.v1+json", `"` + strings.Repeat("x", 8<<20) + `"`},
	}
	for name, c := range bad {
		d, err := l.PutDocument(ctx, c.mt, []byte(c.doc))
		if !errors.Is(err, layout.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
		if _, serr := os.Stat(blobFile(dir, digest.FromString(c.doc))); serr == nil || d.Digest != "" {
			t.Errorf("%s: stored although refused", name)
		}
	}
}
