package sign

import (
	"context"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// gcLayout runs gc on the layout at dir (opened Exclusive) and returns the
// digests of the blobs it freed.
func gcLayout(t *testing.T, dir string) map[digest.Digest]bool {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.Exclusive})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := l.GC(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[digest.Digest]bool{}
	for _, b := range res.Blobs {
		out[b.Digest] = true
	}
	return out
}

// TestGCSignatures: gc keeps a signed tag's signatures (bundle referrer,
// referrers-tag index, legacy .sig manifest) while the tag is there, and
// removes all of them once the subject is untagged.
func TestGCSignatures(t *testing.T) {
	ctx := context.Background()
	l := newLayout(t)
	dir := l.Dir()
	desc := artifact(t, l, "v1", "hello")
	artifact(t, l, "other", "stays")
	s, k, _ := cosignKeys(t, t.TempDir(), "cosign")
	sigs, err := Sign(ctx, l, desc, s, Options{Legacy: true})
	if err != nil {
		t.Fatal(err)
	}
	var sigBlobs []digest.Digest
	for _, m := range []ocispec.Descriptor{sigs[0].Referrer, sigs[0].Legacy} {
		doc, err := l.ReadDocument(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		sigBlobs = append(sigBlobs, m.Digest)
		if doc.Config.Digest != ocispec.DescriptorEmptyJSON.Digest { // "other" keeps that one
			sigBlobs = append(sigBlobs, doc.Config.Digest)
		}
		for _, ly := range doc.Layers {
			sigBlobs = append(sigBlobs, ly.Digest)
		}
	}
	idx, _ := l.Index(ctx)
	rt, ok := layout.FindTag(idx, layout.ReferrersTag(desc.Digest))
	if !ok {
		t.Fatal("no referrers-tag index")
	}
	sigBlobs = append(sigBlobs, rt.Digest)
	l.Close()

	if freed := gcLayout(t, dir); len(freed) != 0 {
		t.Fatalf("gc with the subject tagged freed %v", freed)
	}
	l2, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, l2, []layout.Ref{{Layout: dir, Tag: "v1"}}, KeysPolicy(k))
	if err != nil || rep.Err() != nil || len(rep.Results[0].By) != 2 {
		t.Fatalf("verify after gc: %+v %v", rep, err)
	}
	if _, err := l2.Untag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	freed := gcLayout(t, dir)
	for _, d := range append(sigBlobs, desc.Digest) {
		if !freed[d] {
			t.Errorf("gc kept %s after its subject was untagged", d)
		}
	}
	l3, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	idx, _ = l3.Index(ctx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "other" {
		t.Fatalf("index.json after gc: %+v", idx.Manifests)
	}
}
