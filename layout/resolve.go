package layout

import (
	"context"
	"errors"
	"fmt"

	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolve finds the descriptor a tag or digest names. A tag is looked up
// in index.json. A digest is looked up in index.json first (to get its
// media type and annotations), then among the blobs, whose media type is
// then read from the document itself.
func (l *Layout) Resolve(ctx context.Context, r Ref) (ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if r.Digest == "" {
		if r.Tag == "" {
			return ocispec.Descriptor{}, fmt.Errorf("%s: no tag or digest given", r.Layout)
		}
		d, ok := FindTag(idx, r.Tag)
		if !ok {
			return ocispec.Descriptor{}, fmt.Errorf("tag %q: %w in %s", r.Tag, ErrTagNotFound, l.dir)
		}
		return d, nil
	}
	return l.ResolveDigest(ctx, idx, r.Digest)
}

// ResolveDigest is Resolve for a digest, given the current index.
func (l *Layout) ResolveDigest(ctx context.Context, idx *ocispec.Index, d digest.Digest) (ocispec.Descriptor, error) {
	for _, m := range idx.Manifests {
		if m.Digest == d {
			m.Annotations = withoutRefName(m.Annotations)
			return m, nil
		}
	}
	info, err := l.blobs.Stat(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{Digest: d, Size: info.Size}
	b, err := l.ReadBlobJSON(ctx, desc)
	switch {
	case errors.Is(err, strictjson.ErrInvalid), errors.Is(err, strictjson.ErrTooLarge):
		// A stored blob that is not JSON: a layer or config digest given
		// where a manifest is needed — the caller's mistake.
		return ocispec.Descriptor{}, fmt.Errorf("%s is a blob of %d bytes, not a manifest or index (%v): %w", d, info.Size, err, ErrNotManifest)
	case err != nil:
		return ocispec.Descriptor{}, fmt.Errorf("%s is not a manifest or index: %w", d, err)
	}
	doc, err := ParseDocument(b, desc)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s is not a manifest or index: %v: %w", d, err, ErrNotManifest)
	}
	desc.MediaType = doc.MediaType
	if desc.MediaType == "" {
		desc.MediaType = ocispec.MediaTypeImageManifest
		if doc.IsIndex() {
			desc.MediaType = ocispec.MediaTypeImageIndex
		}
	}
	desc.ArtifactType = doc.ArtifactType
	return desc, nil
}
