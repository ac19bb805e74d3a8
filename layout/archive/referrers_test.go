package archive

import (
	"bytes"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// attach packs a referrer of subject into l the way `oci-pack attach`
// records it: untagged, and in the subject's referrers-tag index.
func attach(t *testing.T, l *layout.Layout, subject ocispec.Descriptor, seed uint64) ocispec.Descriptor {
	t.Helper()
	ref := packTag(t, l, "", seed, map[string]int{"sbom.json": 100}, &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size})
	err := l.AddReferrers(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// referrersTagMembers lists the digests in subject's referrers-tag index.
func referrersTagMembers(t *testing.T, dir string, subject digest.Digest) []digest.Digest {
	t.Helper()
	l := openLayout(t, dir)
	defer l.Close()
	idx, err := l.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := layout.FindTag(idx, layout.ReferrersTag(subject))
	if !ok {
		return nil
	}
	doc, err := l.ReadDocument(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var out []digest.Digest
	for _, m := range doc.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

// A ref's export carries its subject's referrers-tag index, and an import
// merges it with the one the site already has instead of failing on a
// "tag conflict" over bookkeeping.
func TestReferrersTagIndexTravelsAndMerges(t *testing.T) {
	src := t.TempDir()
	l := openLayout(t, src)
	v1 := packTag(t, l, "v1", 1, map[string]int{"model.bin": 4096}, nil)
	r1 := attach(t, l, v1, 2)
	l.Close()

	archive := exportBytes(t, src, ExportOptions{Refs: []layout.Ref{{Layout: src, Tag: "v1"}}})
	site := t.TempDir()
	if _, err := importInto(t, site, bytes.NewReader(archive), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := referrersTagMembers(t, site, v1.Digest); len(got) != 1 || got[0] != r1.Digest {
		t.Fatalf("site's referrers-tag index of v1 = %v, want [%s]", got, r1.Digest)
	}

	// The connected site attaches a second referrer; the offline site a
	// third. Importing the connected site's export must keep all three.
	l = openLayout(t, src)
	r2 := attach(t, l, v1, 3)
	l.Close()
	sl := openLayout(t, site)
	r3 := attach(t, sl, v1, 4)
	sl.Close()
	archive = exportBytes(t, src, ExportOptions{Refs: []layout.Ref{{Layout: src, Tag: "v1"}}})
	if _, err := importInto(t, site, bytes.NewReader(archive), ImportOptions{}); err != nil {
		t.Fatalf("import with both sides' referrers: %v", err)
	}
	got := map[digest.Digest]bool{}
	for _, d := range referrersTagMembers(t, site, v1.Digest) {
		got[d] = true
	}
	for _, want := range []ocispec.Descriptor{r1, r2, r3} {
		if !got[want.Digest] {
			t.Errorf("referrer %s missing from the merged referrers-tag index (have %v)", want.Digest, got)
		}
	}
	sl = openLayout(t, site)
	defer sl.Close()
	refs, err := sl.Referrers(ctx, v1.Digest, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 3 {
		t.Errorf("oci-pack referrers at the site: %d, want 3", len(refs))
	}
}
