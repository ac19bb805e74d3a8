package layout_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// nestIndexes stores depth image indexes, each holding the previous one
// (the innermost holds m), and returns the outermost.
func nestIndexes(t *testing.T, l *layout.Layout, m ocispec.Descriptor, depth int) ocispec.Descriptor {
	t.Helper()
	d := m
	for range depth {
		idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{d}}
		idx.SchemaVersion = 2
		d = putJSON(t, l, ocispec.MediaTypeImageIndex, idx)
	}
	return d
}

func walkAll(l *layout.Layout, root ocispec.Descriptor, o layout.WalkOptions) ([]string, error) {
	var roles []string
	err := l.Walk(ctx, []layout.Node{{Descriptor: root, Role: "root"}}, o, func(n *layout.Node) error {
		roles = append(roles, n.Role+" "+n.Descriptor.Digest.Encoded()[:8])
		return nil
	})
	return roles, err
}

func TestWalkDepthLimit(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	a := putArtifact(t, l, "deep")
	ok := nestIndexes(t, l, a.manifest, layout.MaxDepth-1) // manifest at depth 31, layers at 32
	if roles, err := walkAll(l, ok, layout.WalkOptions{}); err != nil || len(roles) != layout.MaxDepth-1+4 {
		t.Fatalf("walk of a graph %d deep: %d nodes, %v", layout.MaxDepth, len(roles), err)
	}
	deep := nestIndexes(t, l, a.manifest, layout.MaxDepth+2)
	_, err := walkAll(l, deep, layout.WalkOptions{})
	if !errors.Is(err, layout.ErrCorrupt) || !strings.Contains(err.Error(), "deeper than 32") {
		t.Fatalf("walk of a graph %d deep = %v, want ErrCorrupt deeper than 32", layout.MaxDepth+2, err)
	}
}

// TestWalkVisitsOnce: shared children (a diamond) are visited once, parents
// before children, and a shared Seen set spans walks.
func TestWalkVisitsOnce(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	a := putArtifact(t, l, "x")
	b := putArtifact(t, l, "x") // same layers and config, same manifest
	c := putArtifact(t, l, "y") // same config only
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{a.manifest, b.manifest, c.manifest}}
	idx.SchemaVersion = 2
	root := putJSON(t, l, ocispec.MediaTypeImageIndex, idx)
	seen := layout.NewVisitSet()
	roles, err := walkAll(l, root, layout.WalkOptions{Seen: seen})
	if err != nil {
		t.Fatal(err)
	}
	// root, manifest x, config, 2 layers, manifest y, 2 layers.
	if len(roles) != 8 || !strings.HasPrefix(roles[0], "root ") || !strings.HasPrefix(roles[1], "manifest 0 ") || !strings.HasPrefix(roles[2], "config ") {
		t.Fatalf("walk order %q", roles)
	}
	if again, _ := walkAll(l, c.manifest, layout.WalkOptions{Seen: seen}); len(again) != 0 {
		t.Fatalf("second walk with the same Seen set visited %q", again)
	}
}

func TestWalkMissingManifest(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	a := putArtifact(t, l, "gone")
	os.Remove(blobFile(dir, a.manifest.Digest))
	_, err := walkAll(l, a.manifest, layout.WalkOptions{})
	if !errors.Is(err, layout.ErrMissingBlob) || !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("walk with a missing manifest = %v, want ErrMissingBlob", err)
	}
}

func TestResolve(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	untagged := putArtifact(t, l, "untagged")
	ref := func(s string) layout.Ref {
		r, err := layout.ParseRef(dir + s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	d, err := l.Resolve(ctx, ref(":v1"))
	if err != nil || d.Digest != a.manifest.Digest || d.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("Resolve(:v1) = %+v, %v", d, err)
	}
	d, err = l.Resolve(ctx, ref("@"+a.manifest.Digest.String()))
	if err != nil || d.Digest != a.manifest.Digest || d.Annotations[ocispec.AnnotationRefName] != "" {
		t.Fatalf("Resolve(@digest in index) = %+v, %v; want no ref.name", d, err)
	}
	d, err = l.Resolve(ctx, ref("@"+untagged.manifest.Digest.String()))
	if err != nil || d.MediaType != ocispec.MediaTypeImageManifest || d.ArtifactType != "application/vnd.test.v1" || d.Size != untagged.manifest.Size {
		t.Fatalf("Resolve(@untagged digest) = %+v, %v; want type read from the document", d, err)
	}
	if _, err := l.Resolve(ctx, ref(":nope")); !errors.Is(err, layout.ErrTagNotFound) {
		t.Fatalf("Resolve(unknown tag) = %v, want ErrTagNotFound", err)
	}
	if _, err := l.Resolve(ctx, ref("@"+digest.FromString("nope").String())); !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Resolve(unknown digest) = %v, want ErrNotFound", err)
	}
	if _, err := l.Resolve(ctx, ref("@"+a.layers[0].Digest.String())); err == nil || !strings.Contains(err.Error(), "not a manifest or index") {
		t.Fatalf("Resolve(layer digest) = %v, want 'not a manifest or index'", err)
	}
}

func TestParseRef(t *testing.T) {
	dir := t.TempDir()
	colon := filepath.Join(dir, "with:colon")
	os.Mkdir(colon, 0o755)
	d := digest.FromString("x")
	good := map[string]layout.Ref{
		"L":                      {Layout: "L"},
		"L:v1":                   {Layout: "L", Tag: "v1"},
		"a/b/L:v1.0-rc+1":        {Layout: "a/b/L", Tag: "v1.0-rc+1"},
		"L@" + d.String():        {Layout: "L", Digest: d},
		colon:                    {Layout: colon},
		colon + ":v2":            {Layout: colon, Tag: "v2"},
		`C:\models\L:v1`:         {Layout: `C:\models\L`, Tag: "v1"},
		"L:a:b":                  {Layout: "L", Tag: "a:b"},
		dir + "/x@" + d.String(): {Layout: dir + "/x", Digest: d},
	}
	for in, want := range good {
		if got, err := layout.ParseRef(in); err != nil || got != want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]error{
		"":                                 nil,
		":v1":                              nil,
		"L:":                               layout.ErrInvalidTag,
		"L:../../x":                        layout.ErrInvalidTag,
		"L:-v1":                            layout.ErrInvalidTag,
		"L@sha256:../../x":                 cas.ErrInvalidDigest,
		"L@sha256:ABC":                     cas.ErrInvalidDigest,
		"L@md5:" + strings.Repeat("0", 32): cas.ErrInvalidDigest,
	}
	for in, class := range bad {
		_, err := layout.ParseRef(in)
		if err == nil || class != nil && !errors.Is(err, class) {
			t.Errorf("ParseRef(%q) = %v, want %v", in, err, class)
		}
	}
}

func TestTagAndUntag(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	absent := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: dA, Size: 1}
	if _, err := l.Tag(ctx, "v2", absent, layout.ConflictFail); !errors.Is(err, layout.ErrMissingBlob) {
		t.Fatalf("tagging a blob that is not stored = %v, want ErrMissingBlob", err)
	}
	tag(t, l, "v2", a.manifest)
	before := readFile(t, filepath.Join(dir, "index.json"))
	if _, err := l.Untag(ctx, "v2", "nope"); !errors.Is(err, layout.ErrTagNotFound) {
		t.Fatalf("Untag with an unknown tag = %v, want ErrTagNotFound", err)
	}
	if after := readFile(t, filepath.Join(dir, "index.json")); string(after) != string(before) {
		t.Fatal("a failed Untag removed some tags")
	}
	removed, err := l.Untag(ctx, "v1", "v2")
	if err != nil || len(removed) != 2 {
		t.Fatalf("Untag = %v, %v", removed, err)
	}
	l.Close()
	for _, d := range append(a.layers, a.manifest) {
		if _, err := os.Stat(blobFile(dir, d.Digest)); err != nil {
			t.Fatalf("untag deleted blob %s", d.Digest)
		}
	}
	layouttest.Check(t, dir)
}

func TestDiskUsageAndReferrers(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	b := putArtifact(t, l, "other")
	tag(t, l, "v2", b.manifest)
	sig := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test.sig", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{ocispec.DescriptorEmptyJSON}, Subject: &a.manifest}
	sig.SchemaVersion = 2
	sd := putJSON(t, l, ocispec.MediaTypeImageManifest, sig)
	if err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error { return e.AddUntagged(sd) }); err != nil {
		t.Fatal(err)
	}
	refs, err := l.Referrers(ctx, a.manifest.Digest, "")
	if err != nil || len(refs) != 1 || refs[0].Digest != sd.Digest || refs[0].ArtifactType != "application/vnd.test.sig" {
		t.Fatalf("Referrers = %+v, %v", refs, err)
	}
	if refs, _ := l.Referrers(ctx, a.manifest.Digest, "application/other"); len(refs) != 0 {
		t.Fatalf("Referrers filtered by another type = %+v", refs)
	}
	u, err := l.DiskUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size := func(ds ...ocispec.Descriptor) (n int64) {
		for _, d := range ds {
			n += d.Size
		}
		return n
	}
	refA := size(append(a.layers, a.manifest, ocispec.DescriptorEmptyJSON)...)
	refB := size(append(b.layers, b.manifest, ocispec.DescriptorEmptyJSON)...)
	want := []layout.TagUsage{
		{Tag: "v1", Digest: a.manifest.Digest, Referenced: refA, Unique: refA - 2},
		{Tag: "v2", Digest: b.manifest.Digest, Referenced: refB, Unique: refB - 2},
	}
	if !slices.Equal(u.Tags, want) || u.SumReferenced != refA+refB || u.Reachable != refA+refB-2+sd.Size || u.Stored != u.Reachable {
		t.Fatalf("DiskUsage = %+v\nwant tags %+v, reachable %d", u, want, refA+refB-2+sd.Size)
	}
	l.Close()
	layouttest.Check(t, dir)
}
