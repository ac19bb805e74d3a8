package pack_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// exampleLayout makes a small model directory (work/model) and an empty
// layout (work/models) in a temporary directory; done removes both.
func exampleLayout() (work string, l *layout.Layout, done func()) {
	work, err := os.MkdirTemp("", "oci-pack-example-")
	if err != nil {
		log.Fatal(err)
	}
	model := filepath.Join(work, "model")
	os.MkdirAll(filepath.Join(model, "tokenizer"), 0o755)
	os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"hidden_size":8}`), 0o644)
	os.WriteFile(filepath.Join(model, "tokenizer", "vocab.txt"), []byte("a\nb\n"), 0o644)
	l, err = layout.Open(filepath.Join(work, "models"), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		log.Fatal(err)
	}
	return work, l, func() { l.Close(); os.RemoveAll(work) }
}

// Pack a directory as one artifact and tag it: the directory becomes one
// reproducible tar layer, so the same files give the same digest anywhere.
func ExamplePack() {
	ctx := context.Background()
	work, l, done := exampleLayout()
	defer done()
	res, err := pack.Pack(ctx, l, []pack.Input{{Path: filepath.Join(work, "model"), Title: "model"}}, pack.Options{
		ArtifactType: "application/vnd.example.model.v1",
		Tag:          "v1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("layers:", len(res.Layers), res.Layers[0].Descriptor.MediaType)
	fmt.Println("title:", res.Layers[0].Descriptor.Annotations["org.opencontainers.image.title"])
	fmt.Println("tag is new:", res.TagChange.Old == "")
	// Output:
	// layers: 1 application/vnd.oci.image.layer.v1.tar+gzip
	// title: model
	// tag is new: true
}

// Attach a referrer (an SBOM, a signature, a model card) to a tagged
// artifact: with Subject set, Pack records it in the layout's index as a
// referrer, so Referrers finds it and gc keeps it.
func ExamplePack_attach() {
	ctx := context.Background()
	work, l, done := exampleLayout()
	defer done()
	model, err := pack.Pack(ctx, l, []pack.Input{{Path: filepath.Join(work, "model", "config.json"), Title: "config.json"}},
		pack.Options{ArtifactType: "application/vnd.example.model.v1", Tag: "v1"})
	if err != nil {
		log.Fatal(err)
	}
	sbom := filepath.Join(work, "sbom.spdx.json")
	os.WriteFile(sbom, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
	if _, err := pack.Pack(ctx, l, []pack.Input{{Path: sbom, Title: "sbom.spdx.json"}},
		pack.Options{ArtifactType: "application/spdx+json", Subject: &model.Manifest}); err != nil {
		log.Fatal(err)
	}
	refs, err := l.Referrers(ctx, model.Manifest.Digest, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range refs {
		fmt.Println("referrer:", r.ArtifactType)
	}
	// Output:
	// referrer: application/spdx+json
}

// Assemble an artifact step by step: write each layer, then the manifest
// from their descriptors, then tag it through the layout's index door.
func ExampleBuildManifest() {
	ctx := context.Background()
	work, l, done := exampleLayout()
	defer done()
	lay, err := pack.WriteLayer(ctx, l, filepath.Join(work, "model", "config.json"), pack.LayerOptions{Title: "config.json"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := pack.BuildManifest(ctx, l, pack.ManifestSpec{ArtifactType: "application/vnd.example.model.v1", Layers: []ocispec.Descriptor{lay.Descriptor}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.Tag(ctx, "v1", m, layout.ConflictFail); err != nil {
		log.Fatal(err)
	}
	fmt.Println("layer digest is the file's sha256:", lay.Descriptor.Digest)
	fmt.Println("artifactType:", m.ArtifactType)
	// Output:
	// layer digest is the file's sha256: sha256:57227ed1a3203d5bffbd167039e67a65c453d9492434c35330ebcb6bb0fd3785
	// artifactType: application/vnd.example.model.v1
}
