package layout

import (
	"context"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/layout/strictjson"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Document is the union of the fields of an image manifest and an image
// index. Decoding into one struct lets us reject a document that is both
// (RELIABILITY I10, umoci CVE-2021-41190).
type Document struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType,omitempty"`
	ArtifactType  string               `json:"artifactType,omitempty"`
	Config        *ocispec.Descriptor  `json:"config,omitempty"`
	Layers        []ocispec.Descriptor `json:"layers,omitempty"`
	Manifests     []ocispec.Descriptor `json:"manifests,omitempty"`
	Subject       *ocispec.Descriptor  `json:"subject,omitempty"`
	Annotations   map[string]string    `json:"annotations,omitempty"`
	// Raw is the document as stored (set by ReadDocument).
	Raw []byte `json:"-"`
}

// IsIndex reports whether the document is an index.
func (d *Document) IsIndex() bool { return d.Manifests != nil || IsIndex(d.MediaType) }

// Children are the descriptors the document points to (config, layers or
// manifests), not its subject.
func (d *Document) Children() []ocispec.Descriptor {
	if d.IsIndex() {
		return d.Manifests
	}
	var out []ocispec.Descriptor
	if d.Config != nil {
		out = append(out, *d.Config)
	}
	return append(out, d.Layers...)
}

// ParseDocument decodes a manifest or index strictly and checks it against
// the descriptor that pointed to it: the media types must agree, and a
// document must not look like both kinds.
func ParseDocument(b []byte, desc ocispec.Descriptor) (*Document, error) {
	var doc Document
	if err := strictjson.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.SchemaVersion != 2 {
		return nil, fmt.Errorf("schemaVersion %d, expected 2", doc.SchemaVersion)
	}
	hasManifests := doc.Manifests != nil
	hasImage := doc.Config != nil || doc.Layers != nil
	if hasManifests && hasImage {
		return nil, fmt.Errorf("document has both manifests and config/layers: ambiguous")
	}
	if doc.MediaType != "" && desc.MediaType != "" && doc.MediaType != desc.MediaType && (IsManifest(desc.MediaType) || IsIndex(desc.MediaType)) {
		return nil, fmt.Errorf("document mediaType %q, descriptor says %q", doc.MediaType, desc.MediaType)
	}
	switch {
	case IsManifest(desc.MediaType) && hasManifests, IsIndex(desc.MediaType) && hasImage:
		return nil, fmt.Errorf("descriptor says %q but the document is the other kind", desc.MediaType)
	case IsManifest(doc.MediaType) && hasManifests, IsIndex(doc.MediaType) && hasImage:
		return nil, fmt.Errorf("mediaType %q but the document is the other kind", doc.MediaType)
	}
	if !doc.IsIndex() && doc.Config == nil {
		return nil, fmt.Errorf("manifest has no config")
	}
	if n := len(doc.Layers) + len(doc.Manifests); n > MaxDescriptors {
		return nil, fmt.Errorf("%d descriptors exceed the limit of %d", n, MaxDescriptors)
	}
	for i, c := range doc.Children() {
		if err := CheckDescriptor(c); err != nil {
			return nil, fmt.Errorf("%s: %w", childLabel(&doc, i), err)
		}
	}
	if doc.Subject != nil {
		if err := CheckDescriptor(*doc.Subject); err != nil {
			return nil, fmt.Errorf("subject: %w", err)
		}
	}
	return &doc, nil
}

// childLabel names Children()[i] as its JSON path: manifests[i], config,
// or layers[i-1] (the config comes first in Children).
func childLabel(doc *Document, i int) string {
	switch {
	case doc.IsIndex():
		return fmt.Sprintf("manifests[%d]", i)
	case i == 0:
		return "config"
	}
	return fmt.Sprintf("layers[%d]", i-1)
}

// ReadBlobJSON reads desc (at most strictjson.MaxDocument bytes, verified
// against desc) and returns its bytes.
func (l *Layout) ReadBlobJSON(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if err := CheckDescriptor(desc); err != nil {
		return nil, err
	}
	if desc.Size > strictjson.MaxDocument {
		return nil, fmt.Errorf("%s: %d bytes exceeds the %d byte limit for JSON documents: %w", desc.Digest, desc.Size, strictjson.MaxDocument, ErrCorrupt)
	}
	rc, err := l.blobs.OpenVerified(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", desc.Digest, err)
	}
	return b, nil
}

// ReadDocument reads and parses the manifest or index desc points to.
func (l *Layout) ReadDocument(ctx context.Context, desc ocispec.Descriptor) (*Document, error) {
	b, err := l.ReadBlobJSON(ctx, desc)
	if err != nil {
		return nil, err
	}
	doc, err := ParseDocument(b, desc)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", desc.Digest, err, ErrCorrupt)
	}
	doc.Raw = b
	return doc, nil
}

// IsDocument reports whether desc's media type says it is a manifest or
// an index (and so has children to walk).
func IsDocument(desc ocispec.Descriptor) bool {
	return IsManifest(desc.MediaType) || IsIndex(desc.MediaType)
}
