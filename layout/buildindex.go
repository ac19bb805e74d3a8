package layout

import (
	"context"
	"fmt"
	"path"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IndexMember is one member of an index built by BuildIndex: a stored
// manifest or index, and the title extract gives its subdirectory.
type IndexMember struct {
	Descriptor ocispec.Descriptor
	Title      string
}

// IndexOptions shape BuildIndex's index.
type IndexOptions struct {
	ArtifactType string
	Annotations  map[string]string
	// Tag, if set, tags the index under Conflict; else it is listed
	// untagged.
	Tag      string
	Conflict Conflict
}

// BuildIndex writes an image index collecting members (a CNAB-style
// collection, model variants) through the document door and records it in
// one index update. Each member carries its title as
// org.opencontainers.image.title; two members whose titles name the same
// subdirectory are refused (extract could not write both). The tag is
// checked before anything is written.
func (l *Layout) BuildIndex(ctx context.Context, members []IndexMember, o IndexOptions) (ocispec.Descriptor, TagChange, error) {
	var ch TagChange
	if o.Tag != "" {
		if err := CheckUserTag(o.Tag); err != nil {
			return ocispec.Descriptor{}, ch, err
		}
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, ArtifactType: o.ArtifactType, Annotations: o.Annotations}
	byTitle := map[string]IndexMember{}
	for _, m := range members {
		if !IsDocument(m.Descriptor) {
			return ocispec.Descriptor{}, ch, fmt.Errorf("%w: index member %q is a %s, not a manifest or index", ErrInvalidArgument, m.Title, m.Descriptor.MediaType)
		}
		key := path.Clean(m.Title) // extract's rule: the cleaned title names the subdirectory
		if prev, dup := byTitle[key]; dup {
			return ocispec.Descriptor{}, ch, fmt.Errorf("%w: index members %q (%s) and %q (%s) would both be named %q, and extract puts each member in a subdirectory of that name: give each member once",
				ErrInvalidArgument, prev.Title, prev.Descriptor.Digest, m.Title, m.Descriptor.Digest, key)
		}
		byTitle[key] = m
		d := m.Descriptor
		d.Annotations = map[string]string{ocispec.AnnotationTitle: m.Title}
		idx.Manifests = append(idx.Manifests, d)
	}
	desc, err := l.PutJSON(ctx, ocispec.MediaTypeImageIndex, idx)
	if err != nil {
		return ocispec.Descriptor{}, ch, err
	}
	err = l.UpdateIndex(ctx, func(e *IndexEdit) error {
		if o.Tag == "" {
			return e.AddUntagged(desc)
		}
		var err error
		ch, err = e.Tag(o.Tag, desc, o.Conflict)
		return err
	})
	return desc, ch, err
}
