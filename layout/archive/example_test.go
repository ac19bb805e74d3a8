package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Carry a layout across an air gap: export a tag to split volumes (each at
// most 64 KiB here; 4GiB on a FAT32 stick) with a sha256sum sidecar, then
// import the volume set into the far site's layout, verifying every byte.
func ExampleExportFile() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "oci-pack-example-")
	defer os.RemoveAll(dir)
	src, err := layout.Open(filepath.Join(dir, "models"), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	weights := bytes.Repeat([]byte("bf16"), 50_000) // 200 kB
	layer := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(weights), Size: int64(len(weights))}
	if _, err := src.Blobs().Put(ctx, bytes.NewReader(weights), layer); err != nil {
		log.Fatal(err)
	}
	src.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.v1", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{layer}}
	m.SchemaVersion = 2
	desc, err := src.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := src.Tag(ctx, "v1", desc, layout.ConflictFail); err != nil {
		log.Fatal(err)
	}

	stick := filepath.Join(dir, "stick", "model.tar")
	os.MkdirAll(filepath.Dir(stick), 0o755)
	_, vols, err := archive.ExportFile(ctx, src, stick, 64<<10, archive.ExportOptions{Refs: []layout.Ref{{Layout: src.Dir(), Tag: "v1"}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("volumes:", len(vols), filepath.Base(vols[0].Path), "…", filepath.Base(vols[len(vols)-1].Path))

	site, err := layout.Open(filepath.Join(dir, "offline"), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		log.Fatal(err)
	}
	defer site.Close()
	res, err := archive.ImportFiles(ctx, site, []string{vols[0].Path}, archive.ImportOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("imported blobs:", res.Imported, "tag:", res.Tags[0].Name, res.Tags[0].New == desc.Digest)
	// Output:
	// volumes: 4 model.tar.000 … model.tar.003
	// imported blobs: 3 tag: v1 true
}
