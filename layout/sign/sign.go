package sign

import (
	"context"
	"fmt"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// Options tune Sign.
type Options struct {
	// Legacy also writes cosign's simple-signing signature under the tag
	// sha256-<hex>.sig (what cosign v2 and Harbor read).
	Legacy bool
	// Recursive signs each manifest of a signed index too, at any depth.
	Recursive bool
	// Created is the org.opencontainers.image.created annotation cosign
	// sets on the referrer; zero means now.
	Created time.Time
	// Identity is the docker-reference a legacy signature claims (cosign
	// writes the registry repository); "" leaves it empty.
	Identity string
}

// Signature is one signature Sign wrote.
type Signature struct {
	// Subject is the manifest or index signed.
	Subject ocispec.Descriptor
	// Referrer is the bundle referrer manifest (artifactType
	// MediaTypeSigstoreBundle).
	Referrer ocispec.Descriptor
	// LegacyTag and Legacy are the sha256-<hex>.sig tag and its manifest
	// (with Options.Legacy).
	LegacyTag string
	Legacy    ocispec.Descriptor
	// Hint is the signing key's hint.
	Hint string
}

// Sign signs subject, a manifest or index stored in l, with s: it writes a
// Sigstore bundle referrer (and with o.Legacy cosign's legacy signature)
// through the layout's document door and records them in one index
// update (the referrer listed untagged and in the subject's referrers
// index; the legacy manifest under sha256-<hex>.sig, keeping the
// signatures already there). With o.Recursive each manifest an index
// holds is signed too. Nothing is recorded unless every signature was
// made and stored.
func Sign(ctx context.Context, l *layout.Layout, subject ocispec.Descriptor, s *Signer, o Options) ([]Signature, error) {
	subjects, err := signTargets(ctx, l, subject, o.Recursive)
	if err != nil {
		return nil, err
	}
	if o.Created.IsZero() {
		o.Created = time.Now()
	}
	sigs := make([]Signature, 0, len(subjects))
	for _, subj := range subjects {
		ref, err := putBundleReferrer(ctx, l, subj, s, o.Created)
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", subj.Digest, err)
		}
		sigs = append(sigs, Signature{Subject: subj, Referrer: ref, Hint: s.hint})
	}
	err = l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		for i := range sigs {
			if err := e.AddReferrers(sigs[i].Referrer); err != nil {
				return err
			}
			if !o.Legacy {
				continue
			}
			tag, desc, err := addLegacy(ctx, l, e, sigs[i].Subject, s, o.Identity)
			if err != nil {
				return fmt.Errorf("legacy signature of %s: %w", sigs[i].Subject.Digest, err)
			}
			sigs[i].LegacyTag, sigs[i].Legacy = tag, desc
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sigs, nil
}

// signTargets returns subject and, when recursive, every manifest and
// index below it, parents first; each as a plain descriptor (media type,
// digest, size).
func signTargets(ctx context.Context, l *layout.Layout, subject ocispec.Descriptor, recursive bool) ([]ocispec.Descriptor, error) {
	if !layout.IsDocument(subject) {
		return nil, fmt.Errorf("%s is a %q blob: only a manifest or an index can be signed: %w", subject.Digest, subject.MediaType, layout.ErrNotManifest)
	}
	var out []ocispec.Descriptor
	err := l.Walk(ctx, []layout.Node{{Descriptor: subject, Role: "subject"}}, layout.WalkOptions{}, func(n *layout.Node) error {
		if n.Doc == nil || (n.Parent != nil && !recursive) {
			return nil
		}
		if n.Parent != nil && !n.Parent.Doc.IsIndex() {
			return nil
		}
		d := n.Descriptor
		out = append(out, ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
		return nil
	})
	return out, err
}

// putBundleReferrer signs subj's digest in a DSSE bundle and stores the
// bundle, the empty config and the referrer manifest, as cosign v3 lays
// them out.
func putBundleReferrer(ctx context.Context, l *layout.Layout, subj ocispec.Descriptor, s *Signer, created time.Time) (ocispec.Descriptor, error) {
	payload, err := statement(subj.Digest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	bundleJSON, err := signDSSE(ctx, s, payload)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	layer, err := l.PutDocument(ctx, layout.MediaTypeSigstoreBundle, bundleJSON)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	config, err := l.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, ocispec.DescriptorEmptyJSON.Data)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	config.ArtifactType = layout.MediaTypeSigstoreBundle // cosign sets it on the config too
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: layout.MediaTypeSigstoreBundle,
		Config:       config,
		Layers:       []ocispec.Descriptor{{MediaType: layer.MediaType, Digest: layer.Digest, Size: layer.Size}},
		Subject:      &ocispec.Descriptor{MediaType: subj.MediaType, Digest: subj.Digest, Size: subj.Size},
		Annotations: map[string]string{
			ocispec.AnnotationCreated:     created.UTC().Format(time.RFC3339),
			AnnotationBundleContent:       BundleContentDSSE,
			AnnotationBundlePredicateType: PredicateCosignSign,
		},
	}
	return l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
}

// signDSSE signs payload, an in-toto statement, into a Sigstore bundle
// v0.3 (DSSE envelope, public-key hint, no transparency-log entry, no
// timestamp) and returns the bundle's JSON.
func signDSSE(ctx context.Context, s *Signer, payload []byte) ([]byte, error) {
	b, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: PayloadTypeInToto}, keypair{s}, sgsign.BundleOptions{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return marshalBundle(b)
}

func marshalBundle(b *protobundle.Bundle) ([]byte, error) {
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return out, nil
}

// legacyTag is the tag cosign's legacy signatures of d live under.
func legacyTag(d digest.Digest) string { return layout.LegacySignatureTag(d) }
