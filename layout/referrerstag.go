package layout

import (
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

// cosignTag matches the tags cosign keeps beside an image: sha256-<hex>
// followed by .sig (signatures), .att (attestations) or .sbom.
var cosignTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}\.(sig|att|sbom)$`)

// ReferrersTag is the referrers tag schema's tag for subject d.
func ReferrersTag(d digest.Digest) string { return d.Algorithm().String() + "-" + d.Encoded() }

// IsReferrersTag reports whether name is a referrers tag schema tag (which
// `ls` hides: it is bookkeeping, not a user's tag).
func IsReferrersTag(name string) bool { return referrersTag.MatchString(name) }

// IsCosignTag reports whether name is one of the tags cosign keeps beside
// the image it names: sha256-<hex>.sig, .att or .sbom.
func IsCosignTag(name string) bool { return cosignTag.MatchString(name) }

// LegacySignatureTag is the tag cosign's legacy (simple-signing)
// signatures of d live under: sha256-<hex>.sig.
func LegacySignatureTag(d digest.Digest) string { return ReferrersTag(d) + ".sig" }

// TagSubject returns the digest a bookkeeping tag is named after: the
// subject of a referrers-tag index (sha256-<hex>) or of a cosign tag
// (sha256-<hex>.sig, .att, .sbom). ok is false for any other name.
func TagSubject(name string) (d digest.Digest, ok bool) {
	if !referrersTag.MatchString(name) && !cosignTag.MatchString(name) {
		return "", false
	}
	return digest.NewDigestFromEncoded(digest.SHA256, name[len("sha256-"):len("sha256-")+64]), true
}

// linkReferrers adds each manifest or index in refs that has a subject to
// that subject's referrers-tag index in e (referrers are listed untagged
// by the caller, AddReferrers).
func (e *IndexEdit) linkReferrers(refs []ocispec.Descriptor) error {
	bySubject := map[digest.Digest][]ocispec.Descriptor{}
	for _, r := range refs {
		if !IsManifest(r.MediaType) && !IsIndex(r.MediaType) {
			continue
		}
		doc, err := e.l.ReadDocument(e.ctx, r)
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
		if err := e.linkSubject(subj, bySubject[subj]); err != nil {
			return err
		}
	}
	return nil
}

// linkSubject rewrites subj's referrers index as the union of its members
// and add, sorted by digest, and points the sha256-<hex> tag at it.
func (e *IndexEdit) linkSubject(subj digest.Digest, add []ocispec.Descriptor) error {
	tag := ReferrersTag(subj)
	var members []ocispec.Descriptor
	if old, ok := e.t.lookup(tag); ok && IsIndex(old.MediaType) {
		doc, err := e.l.ReadDocument(e.ctx, old)
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
	desc, err := e.l.PutJSON(e.ctx, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: members})
	if err != nil {
		return fmt.Errorf("referrers index %s: %w", tag, err)
	}
	_, err = e.t.setTag(tag, desc, ConflictOverwrite)
	return err
}
