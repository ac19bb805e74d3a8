package layout

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IsLegacySignatureTag reports whether name is cosign's legacy signature
// tag, sha256-<hex>.sig.
func IsLegacySignatureTag(name string) bool {
	return IsCosignTag(name) && strings.HasSuffix(name, ".sig")
}

// LegacySignaturesOf returns the entries of l's index.json under cosign's
// legacy signature tag (sha256-<hex>.sig) of a digest has accepts, each a
// cosign signature manifest (any other manifest under such a name is an
// ordinary tag): what travels with those digests on export and copy.
func (l *Layout) LegacySignaturesOf(ctx context.Context, has func(digest.Digest) bool) ([]ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	var out []ocispec.Descriptor
	for _, e := range idx.Manifests {
		name := e.Annotations[ocispec.AnnotationRefName]
		s, ok := TagSubject(name)
		if !ok || !IsLegacySignatureTag(name) || !has(s) || !IsManifest(e.MediaType) {
			continue
		}
		doc, err := l.ReadDocument(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if IsLegacySignature(doc) {
			out = append(out, e)
		}
	}
	return out, nil
}

// IsLegacySignature reports whether doc is cosign's legacy signature
// manifest: every layer a simple-signing payload.
func IsLegacySignature(doc *Document) bool {
	return IsSignature(doc) && doc.ArtifactType != MediaTypeSigstoreBundle
}

// AddLegacySignatures records layers — cosign simple-signing payloads,
// stored, each with its signature annotation — as legacy signatures of
// subject, in the manifest tagged LegacySignatureTag(subject): the layers
// that manifest holds are kept, a layer equal to one there (same digest and
// annotations) is not repeated, and a new manifest with its image config
// (rootfs.diff_ids listing the layers, as cosign writes them) is stored
// through the document door when anything was added. A tag that names
// something other than a cosign signature manifest is not replaced
// (ErrTagExists). It returns the manifest the tag names afterwards.
func (e *IndexEdit) AddLegacySignatures(subject digest.Digest, layers ...ocispec.Descriptor) (ocispec.Descriptor, error) {
	tag := LegacySignatureTag(subject)
	for _, ly := range layers {
		if ly.MediaType != MediaTypeCosignSimpleSigning {
			return ocispec.Descriptor{}, fmt.Errorf("%s: layer %s is a %q, not a cosign simple-signing payload: %w", tag, ly.Digest, ly.MediaType, ErrInvalidArgument)
		}
		if err := e.checkStored(ly, tag); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	old, have, err := e.legacyManifest(tag)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	all := append([]ocispec.Descriptor(nil), have...)
	for _, ly := range layers {
		if !hasLayer(all, ly) {
			all = append(all, ly)
		}
	}
	if old.Digest != "" && len(all) == len(have) {
		return old, nil
	}
	ids := make([]digest.Digest, len(all))
	for i, ly := range all {
		ids[i] = ly.Digest
	}
	config, err := e.l.PutJSON(e.ctx, ocispec.MediaTypeImageConfig, ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: ids}})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := e.l.PutJSON(e.ctx, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    all,
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if _, err := e.t.setTag(tag, desc, ConflictOverwrite); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// MergeLegacySignatures brings desc, a stored cosign signature manifest
// (every layer a simple-signing payload), under the legacy signature tag
// name (sha256-<hex>.sig) without losing a signature on either side: desc
// is tagged as it is when the tag is free or names a manifest whose
// signatures desc holds too; otherwise desc's signatures are added to the
// manifest the tag names (AddLegacySignatures). Two sites' signatures of
// one subject are merged, never a conflict.
func (e *IndexEdit) MergeLegacySignatures(name string, desc ocispec.Descriptor) (TagChange, error) {
	subject, ok := TagSubject(name)
	if !ok || !IsLegacySignatureTag(name) {
		return TagChange{}, fmt.Errorf("%w %q: not a legacy signature tag (sha256-<hex>.sig)", ErrInvalidTag, name)
	}
	if err := e.checkStored(desc, fmt.Sprintf("tag %q", name)); err != nil {
		return TagChange{}, err
	}
	doc, err := e.l.ReadDocument(e.ctx, desc)
	if err != nil {
		return TagChange{}, fmt.Errorf("%s: %w", name, err)
	}
	if !IsLegacySignature(doc) {
		return TagChange{}, fmt.Errorf("%s names %s, which is not a cosign signature manifest: %w", name, desc.Digest, ErrInvalidArgument)
	}
	old, have, err := e.legacyManifest(name)
	if err != nil {
		return TagChange{}, err
	}
	ch := TagChange{Name: name, Old: old.Digest}
	subset := true
	for _, ly := range have {
		subset = subset && hasLayer(doc.Layers, ly)
	}
	if subset {
		ch.New = desc.Digest
		_, err := e.t.setTag(name, desc, ConflictOverwrite)
		return ch, err
	}
	m, err := e.AddLegacySignatures(subject, doc.Layers...)
	ch.New = m.Digest
	return ch, err
}

// legacyManifest returns the manifest tagged name and its layers (none
// when the tag is free), refusing a tag on anything but a cosign
// signature manifest.
func (e *IndexEdit) legacyManifest(name string) (ocispec.Descriptor, []ocispec.Descriptor, error) {
	old, ok := e.t.lookup(name)
	if !ok {
		return ocispec.Descriptor{}, nil, nil
	}
	doc, err := e.l.ReadDocument(e.ctx, old)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	if !IsLegacySignature(doc) {
		return ocispec.Descriptor{}, nil, fmt.Errorf("tag %s names %s, which is not a cosign signature manifest: refusing to replace it: %w", name, old.Digest, ErrTagExists)
	}
	return old, doc.Layers, nil
}

// hasLayer reports whether list holds ly: same digest, same annotations.
func hasLayer(list []ocispec.Descriptor, ly ocispec.Descriptor) bool {
	for _, l := range list {
		if l.Digest == ly.Digest && maps.Equal(l.Annotations, ly.Annotations) {
			return true
		}
	}
	return false
}
