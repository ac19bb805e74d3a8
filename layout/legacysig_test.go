package layout_test

import (
	"errors"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// putPayload stores a simple-signing payload layer carrying signature sig.
func putPayload(t *testing.T, l *layout.Layout, body, sig string) ocispec.Descriptor {
	t.Helper()
	d := put(t, l, layout.MediaTypeCosignSimpleSigning, []byte(`{"critical":{"image":{"docker-manifest-digest":"`+body+`"}}}`))
	d.Annotations = map[string]string{"dev.cosignproject.cosign/signature": sig}
	return d
}

// putSigManifest stores a legacy signature manifest holding layers.
func putSigManifest(t *testing.T, l *layout.Layout, layers ...ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: putJSON(t, l, ocispec.MediaTypeImageConfig, map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": []string{}}}), Layers: layers}
	m.SchemaVersion = 2
	return putJSON(t, l, ocispec.MediaTypeImageManifest, m)
}

// layersUnder returns the layers of the manifest tagged name.
func layersUnder(t *testing.T, l *layout.Layout, name string) (ocispec.Descriptor, []ocispec.Descriptor) {
	t.Helper()
	idx, err := l.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := layout.FindTag(idx, name)
	if !ok {
		t.Fatalf("no tag %s", name)
	}
	doc, err := l.ReadDocument(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	return d, doc.Layers
}

// TestLegacySignatures: AddLegacySignatures keeps the signatures under the
// .sig tag and adds new ones once; MergeLegacySignatures tags an incoming
// manifest as it is when it holds every signature there, else merges both
// sides' — never a conflict — and neither replaces a tag on something else.
func TestLegacySignatures(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	subj := a.manifest.Digest
	name := layout.LegacySignatureTag(subj)
	p1 := putPayload(t, l, subj.String(), "sig-one")
	p1b := putPayload(t, l, subj.String(), "sig-one-by-another-key") // same bytes, another signature
	p2 := putPayload(t, l, subj.String()+" ", "sig-two")
	p3 := putPayload(t, l, subj.String()+"  ", "sig-three")
	edit := func(fn func(e *layout.IndexEdit) error) error { return l.UpdateIndex(ctx, fn) }

	var m1 ocispec.Descriptor
	if err := edit(func(e *layout.IndexEdit) (err error) { m1, err = e.AddLegacySignatures(subj, p1); return err }); err != nil {
		t.Fatal(err)
	}
	if d, ls := layersUnder(t, l, name); d.Digest != m1.Digest || len(ls) != 1 {
		t.Fatalf("after one signature: %s %v", d.Digest, ls)
	}
	var again ocispec.Descriptor
	if err := edit(func(e *layout.IndexEdit) (err error) { again, err = e.AddLegacySignatures(subj, p1); return err }); err != nil || again.Digest != m1.Digest {
		t.Fatalf("adding the same signature again: %s %v, want %s unchanged", again.Digest, err, m1.Digest)
	}
	if err := edit(func(e *layout.IndexEdit) error { _, err := e.AddLegacySignatures(subj, p1b); return err }); err != nil {
		t.Fatal(err)
	}
	if _, ls := layersUnder(t, l, name); len(ls) != 2 {
		t.Fatalf("a second signature over the same payload is not kept: %v", ls)
	}

	// An archive's manifest with another signature: merged.
	other := putSigManifest(t, l, p2)
	var ch layout.TagChange
	if err := edit(func(e *layout.IndexEdit) (err error) { ch, err = e.MergeLegacySignatures(name, other); return err }); err != nil {
		t.Fatal(err)
	}
	d, ls := layersUnder(t, l, name)
	if len(ls) != 3 || ch.New != d.Digest || d.Digest == other.Digest {
		t.Fatalf("merge: %+v, layers %v", ch, ls)
	}
	// One holding every signature there and one more: tagged as it is.
	super := putSigManifest(t, l, p3, p1, p1b, p2)
	if err := edit(func(e *layout.IndexEdit) (err error) { ch, err = e.MergeLegacySignatures(name, super); return err }); err != nil {
		t.Fatal(err)
	}
	if d, _ := layersUnder(t, l, name); d.Digest != super.Digest || ch.Old == ch.New {
		t.Fatalf("a superset is not tagged as it is: %s (%+v)", d.Digest, ch)
	}
	// A subset changes nothing.
	before := readFile(t, dir+"/index.json")
	if err := edit(func(e *layout.IndexEdit) error {
		_, err := e.MergeLegacySignatures(name, putSigManifest(t, l, p2))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dir+"/index.json")) != string(before) {
		t.Fatal("merging a subset changed index.json")
	}

	// Refusals: a manifest that is not a signature; a .sig tag on one.
	err := edit(func(e *layout.IndexEdit) error { _, err := e.MergeLegacySignatures(name, a.manifest); return err })
	if !errors.Is(err, layout.ErrInvalidArgument) {
		t.Fatalf("merging a non-signature: %v", err)
	}
	v := digest.FromString("another subject")
	if err := edit(func(e *layout.IndexEdit) error {
		_, err := e.Tag(layout.LegacySignatureTag(v), a.manifest, layout.ConflictFail)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = edit(func(e *layout.IndexEdit) error { _, err := e.AddLegacySignatures(v, p1); return err })
	if !errors.Is(err, layout.ErrTagExists) {
		t.Fatalf("adding a signature under a .sig tag on a non-signature: %v", err)
	}
	err = edit(func(e *layout.IndexEdit) error { _, err := e.AddLegacySignatures(subj, a.layers[0]); return err })
	if !errors.Is(err, layout.ErrInvalidArgument) {
		t.Fatalf("adding a layer that is not a payload: %v", err)
	}
}
