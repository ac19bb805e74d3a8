package layout_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// putReferrer stores a one-layer manifest whose subject is subj and
// records it through AddReferrers.
func putReferrer(t *testing.T, l *layout.Layout, subj ocispec.Descriptor, seed string) ocispec.Descriptor {
	t.Helper()
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test.ref",
		Config:  put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}")),
		Layers:  []ocispec.Descriptor{put(t, l, "application/octet-stream", []byte(seed))},
		Subject: &ocispec.Descriptor{MediaType: subj.MediaType, Digest: subj.Digest, Size: subj.Size}}
	m.SchemaVersion = 2
	d, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AddReferrers(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestGCReferrers: gc keeps a referrer (and a referrer of it, its
// referrers-tag index, a cosign tag) while its subject is reachable —
// also when the subject is reachable only as an index member — and drops
// them, then their blobs, once the subject is untagged. A referrer kept
// only in the referrers-tag index (regctl's layout) lives with that index.
// Untagged entries without a subject stay. A dry run reports the same and
// changes nothing.
func TestGCReferrers(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	r1 := putReferrer(t, l, a.manifest, "sbom of v1")
	r2 := putReferrer(t, l, r1, "signature of the sbom")
	b := putArtifact(t, l, "member")
	idx, _, err := l.BuildIndex(ctx, []layout.IndexMember{{Descriptor: b.manifest, Title: "b"}}, layout.IndexOptions{Tag: "idx"})
	if err != nil {
		t.Fatal(err)
	}
	r3 := putReferrer(t, l, b.manifest, "sbom of a member")
	// r4 as regctl's ocidir:// keeps a referrer: only in the subject's
	// sha256-<hex> index, not listed untagged.
	r4 := putReferrer(t, l, b.manifest, "regctl-style referrer of a member")
	err = l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		if !e.RemoveUntagged(r4.Digest) || e.RemoveUntagged(r4.Digest) {
			t.Error("RemoveUntagged: want the entry removed once")
		}
		if _, ok := e.Lookup(layout.ReferrersTag(b.manifest.Digest)); !ok {
			t.Error("Lookup after RemoveUntagged lost the referrers tag")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	loose := putArtifact(t, l, "copied with no tag")
	cosignSig := putArtifact(t, l, "cosign legacy signature")
	err = l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		if err := e.AddUntagged(loose.manifest); err != nil {
			return err
		}
		_, err := e.Tag(layout.LegacySignatureTag(a.manifest.Digest), cosignSig.manifest, layout.ConflictFail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	// (Superseded versions of a referrers-tag index are garbage already.)
	if res := gc(t, dir, false); len(res.Entries) != 0 {
		t.Fatalf("gc with every subject tagged dropped %+v", res.Entries)
	}
	for _, d := range []ocispec.Descriptor{a.manifest, r1, r2, r3, r4, cosignSig.manifest, idx, loose.manifest} {
		if _, err := os.Stat(blobFile(dir, d.Digest)); err != nil {
			t.Fatalf("gc with every subject tagged removed %s", d.Digest)
		}
	}

	l = openRW(t, dir)
	if rm, err := l.Untag(ctx, "v1"); err != nil || len(rm) != 1 {
		t.Fatalf("untag: %v %v", rm, err)
	}
	l.Close()
	before := readFile(t, filepath.Join(dir, "index.json"))
	wantEntries := []string{
		"-" + a.manifest.Digest.String(), // r1, untagged
		"-" + r1.Digest.String(),         // r2, untagged
		layout.ReferrersTag(a.manifest.Digest) + "-" + a.manifest.Digest.String(),
		layout.ReferrersTag(r1.Digest) + "-" + r1.Digest.String(),
		layout.LegacySignatureTag(a.manifest.Digest) + "-" + a.manifest.Digest.String(),
	}
	slices.Sort(wantEntries)
	gone := []digest.Digest{a.manifest.Digest, a.layers[0].Digest, a.layers[1].Digest, r1.Digest, r2.Digest, cosignSig.manifest.Digest}
	check := func(res *layout.GCResult) {
		t.Helper()
		var got []string
		for _, e := range res.Entries {
			want := r1.Digest
			if e.Descriptor.Digest == r1.Digest || e.Tag == layout.ReferrersTag(a.manifest.Digest) || e.Tag == layout.LegacySignatureTag(a.manifest.Digest) {
				want = a.manifest.Digest
			}
			if e.Subject != want {
				t.Errorf("entry %+v: subject %s, want %s", e, e.Subject, want)
			}
			got = append(got, e.Tag+"-"+e.Subject.String())
		}
		slices.Sort(got)
		if !slices.Equal(got, wantEntries) {
			t.Fatalf("dropped entries %q, want %q", got, wantEntries)
		}
		freed := map[digest.Digest]bool{}
		for _, bl := range res.Blobs {
			freed[bl.Digest] = true
		}
		for _, d := range gone {
			if !freed[d] {
				t.Errorf("gc does not free %s", d)
			}
		}
		for _, d := range []digest.Digest{r3.Digest, r4.Digest, b.manifest.Digest, idx.Digest, loose.manifest.Digest, loose.layers[0].Digest} {
			if freed[d] {
				t.Errorf("gc frees %s, which is kept", d)
			}
		}
	}
	check(gc(t, dir, true))
	if !bytes.Equal(readFile(t, filepath.Join(dir, "index.json")), before) {
		t.Fatal("gc --dry-run changed index.json")
	}
	for _, d := range gone {
		if _, err := os.Stat(blobFile(dir, d)); err != nil {
			t.Fatalf("gc --dry-run deleted %s", d)
		}
	}
	check(gc(t, dir, false))
	for _, d := range gone {
		if _, err := os.Stat(blobFile(dir, d)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("gc left %s", d)
		}
	}
	layouttest.Check(t, dir)
	l = openRW(t, dir)
	refs, err := l.Referrers(ctx, b.manifest.Digest, "")
	if err != nil || len(refs) != 2 {
		t.Fatalf("the member's referrer after gc: %v %v", refs, err)
	}
	l.Close()
	if res := gc(t, dir, false); len(res.Entries) != 0 || len(res.Blobs) != 0 {
		t.Fatalf("a second gc removed %+v", res)
	}
}
