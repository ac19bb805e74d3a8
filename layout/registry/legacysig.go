package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
)

// legacySignatureOf resolves cosign's legacy signature tag of d
// (sha256-<hex>.sig) in r: the manifest there, named by the tag in its
// ref.name annotation, and true; false when the registry has no such tag
// (404) or names something other than a manifest there. Any other answer
// is returned as an error for the caller to weigh (pull goes on without
// the signature, copy fails). What the manifest holds is checked where it
// is stored (IndexEdit.MergeLegacySignatures), not here.
func legacySignatureOf(ctx context.Context, r *Remote, d digest.Digest) (ocispec.Descriptor, bool, error) {
	tag := layout.LegacySignatureTag(d)
	desc, err := r.Repo.Resolve(ctx, tag)
	if errors.Is(err, errdef.ErrNotFound) {
		return ocispec.Descriptor{}, false, nil
	}
	if err != nil {
		return ocispec.Descriptor{}, false, fmt.Errorf("cosign signature tag %s in %s: %w", tag, r, classify(err))
	}
	if err := cas.Validate(desc.Digest); err != nil {
		return ocispec.Descriptor{}, false, fmt.Errorf("cosign signature tag %s in %s: %w", tag, r, err)
	}
	if !layout.IsManifest(desc.MediaType) {
		return ocispec.Descriptor{}, false, nil
	}
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size,
		Annotations: map[string]string{ocispec.AnnotationRefName: tag}}, true, nil
}
