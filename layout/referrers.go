package layout

import (
	"context"
	"errors"
	"sort"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Referrers lists the manifests in index.json whose subject is d, filtered
// by artifactType when artifactType is not "". Each descriptor carries the
// referrer's artifactType and annotations, as the referrers API would.
func (l *Layout) Referrers(ctx context.Context, d digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	m, err := l.referrerMap(ctx)
	if err != nil {
		return nil, err
	}
	var out []ocispec.Descriptor
	for _, r := range m[d] {
		if artifactType == "" || r.ArtifactType == artifactType {
			out = append(out, r)
		}
	}
	return out, nil
}

// referrerMap reads every manifest listed in index.json and maps subject
// digests to the manifests that refer to them. Manifests that are missing
// are skipped here; verify reports them.
func (l *Layout) referrerMap(ctx context.Context) (map[digest.Digest][]ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest][]ocispec.Descriptor{}
	seen := map[digest.Digest]bool{}
	cands, err := l.withReferrersTagMembers(ctx, idx.Manifests)
	if err != nil {
		return nil, err
	}
	for _, m := range cands {
		if seen[m.Digest] || !IsManifest(m.MediaType) && !IsIndex(m.MediaType) {
			continue
		}
		seen[m.Digest] = true
		doc, err := l.ReadDocument(ctx, m)
		if err != nil {
			if errors.Is(err, cas.ErrNotFound) {
				continue
			}
			return nil, err
		}
		if doc.Subject == nil {
			continue
		}
		r := ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size, ArtifactType: doc.ArtifactType, Annotations: doc.Annotations}
		if r.ArtifactType == "" && doc.Config != nil {
			r.ArtifactType = doc.Config.MediaType
		}
		out[doc.Subject.Digest] = append(out[doc.Subject.Digest], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Digest < rs[j].Digest })
	}
	return out, nil
}

// withReferrersTagMembers returns entries plus the manifests listed by every
// entry that is an index tagged with the referrers tag schema, so referrers
// that regctl (ocidir://) keeps only there are found too. A missing index is
// skipped here; verify reports it.
func (l *Layout) withReferrersTagMembers(ctx context.Context, entries []ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	out := entries
	for _, m := range entries {
		if !IsIndex(m.MediaType) || !referrersTag.MatchString(m.Annotations[ocispec.AnnotationRefName]) {
			continue
		}
		doc, err := l.ReadDocument(ctx, m)
		if errors.Is(err, cas.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out[:len(out):len(out)], doc.Manifests...)
	}
	return out, nil
}
