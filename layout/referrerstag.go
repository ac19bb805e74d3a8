package layout

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// referrersTag matches the distribution-spec referrers tag schema,
// <alg>-<subject hex>: the tag of an index listing a subject's referrers,
// which registries without the referrers API, and regctl's OCI layouts,
// use to find them.
var referrersTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)

// ReferrersTag is the referrers tag schema's tag for subject d.
func ReferrersTag(d digest.Digest) string { return d.Algorithm().String() + "-" + d.Encoded() }

// IsReferrersTag reports whether name is a referrers tag schema tag (which
// `ls` hides: it is bookkeeping, not a user's tag).
func IsReferrersTag(name string) bool { return referrersTag.MatchString(name) }

// LinkReferrers records each manifest in refs that has a subject in the
// referrers-tag index of that subject, inside idx: it must be called from
// an UpdateIndex callback, on a layout opened ReadWrite. The referrers
// stay listed untagged in idx too (oras finds them there; regctl and
// registries without the referrers API look for the tag).
func (l *Layout) LinkReferrers(ctx context.Context, idx *ocispec.Index, refs []ocispec.Descriptor) error {
	bySubject := map[digest.Digest][]ocispec.Descriptor{}
	for _, r := range refs {
		if !IsManifest(r.MediaType) && !IsIndex(r.MediaType) {
			continue
		}
		doc, err := l.ReadDocument(ctx, r)
		if err != nil {
			return err
		}
		if doc.Subject == nil {
			continue
		}
		at := doc.ArtifactType
		if at == "" && doc.Config != nil {
			at = doc.Config.MediaType
		}
		bySubject[doc.Subject.Digest] = append(bySubject[doc.Subject.Digest], ocispec.Descriptor{
			MediaType: r.MediaType, Digest: r.Digest, Size: r.Size, ArtifactType: at, Annotations: doc.Annotations,
		})
	}
	subjects := make([]digest.Digest, 0, len(bySubject))
	for s := range bySubject {
		subjects = append(subjects, s)
	}
	sort.Slice(subjects, func(i, j int) bool { return subjects[i] < subjects[j] })
	for _, subj := range subjects {
		if err := l.linkReferrers(ctx, idx, subj, bySubject[subj]); err != nil {
			return err
		}
	}
	return nil
}

func (l *Layout) linkReferrers(ctx context.Context, idx *ocispec.Index, subj digest.Digest, add []ocispec.Descriptor) error {
	tag := ReferrersTag(subj)
	var members []ocispec.Descriptor
	if old, ok := FindTag(idx, tag); ok && IsIndex(old.MediaType) {
		doc, err := l.ReadDocument(ctx, old)
		if err != nil {
			return fmt.Errorf("referrers index %s: %w", tag, err)
		}
		members = doc.Manifests
	}
	have := map[digest.Digest]bool{}
	for _, m := range members {
		have[m.Digest] = true
	}
	for _, a := range add {
		if !have[a.Digest] {
			members = append(members, a)
			have[a.Digest] = true
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].Digest < members[j].Digest })
	b, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: members})
	if err != nil {
		return err
	}
	w, err := l.blobs.Writer(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex})
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	res, err := w.Commit(ctx)
	if err != nil {
		return fmt.Errorf("referrers index %s: %w", tag, err)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: res.Descriptor.Digest, Size: res.Descriptor.Size}
	_, err = SetTag(idx, tag, desc, ConflictOverwrite)
	return err
}
