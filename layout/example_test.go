package layout_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// exampleArtifact stores a one-file artifact in l through the layout's
// doors and tags it.
func exampleArtifact(ctx context.Context, l *layout.Layout, tag, content string) ocispec.Descriptor {
	b := []byte(content)
	layer := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(len(b)),
		Annotations: map[string]string{ocispec.AnnotationTitle: tag + ".txt"}}
	if _, err := l.Blobs().Put(ctx, bytes.NewReader(b), layer); err != nil {
		log.Fatal(err)
	}
	if _, err := l.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}")); err != nil {
		log.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.v1",
		Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{layer}}
	m.SchemaVersion = 2
	desc, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.Tag(ctx, tag, desc, layout.ConflictFail); err != nil {
		log.Fatal(err)
	}
	return desc
}

// exampleLayouts opens (creating) the named layouts in a temporary
// directory; done closes and removes them.
func exampleLayouts(names ...string) (ls []*layout.Layout, done func()) {
	dir, err := os.MkdirTemp("", "oci-pack-example-")
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range names {
		l, err := layout.Open(filepath.Join(dir, n), layout.Options{Mode: layout.ReadWrite, Create: true})
		if err != nil {
			log.Fatal(err)
		}
		ls = append(ls, l)
	}
	return ls, func() {
		for _, l := range ls {
			l.Close()
		}
		os.RemoveAll(dir)
	}
}

// Collect two tagged artifacts in an image index (model variants, a
// CNAB-style bundle): each member is titled, so extract gives it its own
// directory.
func ExampleLayout_BuildIndex() {
	ctx := context.Background()
	ls, done := exampleLayouts("models")
	defer done()
	l := ls[0]
	small := exampleArtifact(ctx, l, "small", "a small model")
	large := exampleArtifact(ctx, l, "large", "a large model")
	idx, _, err := l.BuildIndex(ctx, []layout.IndexMember{{Descriptor: small, Title: "small"}, {Descriptor: large, Title: "large"}},
		layout.IndexOptions{ArtifactType: "application/vnd.example.bundle.v1", Tag: "all"})
	if err != nil {
		log.Fatal(err)
	}
	doc, err := l.ReadDocument(ctx, idx)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range doc.Manifests {
		fmt.Println("member:", m.Annotations[ocispec.AnnotationTitle])
	}
	// Output:
	// member: small
	// member: large
}

// Copy a tagged artifact with its referrers into another layout: blobs the
// destination holds are skipped, every copied blob is verified, and the
// tag and the referrers change in one index update.
func ExampleCopy() {
	ctx := context.Background()
	ls, done := exampleLayouts("src", "dst")
	defer done()
	src, dst := ls[0], ls[1]
	model := exampleArtifact(ctx, src, "v1", "weights")
	card := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.card.v1",
		Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{ocispec.DescriptorEmptyJSON}, Subject: &model}
	card.SchemaVersion = 2
	cardDesc, err := src.PutJSON(ctx, ocispec.MediaTypeImageManifest, card)
	if err != nil {
		log.Fatal(err)
	}
	if err := src.AddReferrers(ctx, cardDesc); err != nil {
		log.Fatal(err)
	}
	res, err := layout.Copy(ctx, src, dst, model, layout.CopyOptions{Referrers: true, Tag: "v1"})
	if err != nil {
		log.Fatal(err)
	}
	refs, _ := dst.Referrers(ctx, model.Digest, "")
	fmt.Println("blobs copied:", res.Copied, "referrers:", len(refs), refs[0].ArtifactType)
	// Output:
	// blobs copied: 4 referrers: 1 application/vnd.example.card.v1
}
