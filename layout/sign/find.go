package sign

import (
	"context"
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Signature forms.
const (
	FormBundle = "bundle" // Sigstore bundle v0.3 referrer (cosign v3)
	FormLegacy = "legacy" // simple signing under sha256-<hex>.sig (cosign v2)
)

// Found is one signature stored for a subject: a layer of a bundle
// referrer, or one simple-signing layer of the legacy .sig manifest.
type Found struct {
	Form     string
	Manifest ocispec.Descriptor // the referrer or .sig manifest
	Layer    ocispec.Descriptor // the bundle or payload layer
	// Hint is the key hint a bundle carries (unverified; "" for legacy
	// signatures and bundles without one).
	Hint string
}

// IsSignatureTag reports whether name is bookkeeping a signer keeps — a
// referrers-tag index or one of cosign's sha256-<hex>.sig/.att/.sbom tags —
// rather than a user's tag.
func IsSignatureTag(name string) bool {
	return layout.IsReferrersTag(name) || layout.IsCosignTag(name)
}

// Find lists the signatures l holds for d: every layer of every bundle
// referrer of d, then every simple-signing layer of d's .sig manifest. A
// manifest that cannot be read is an error (verify reports it).
func Find(ctx context.Context, l *layout.Layout, d digest.Digest) ([]Found, error) {
	refs, err := l.Referrers(ctx, d, layout.MediaTypeSigstoreBundle)
	if err != nil {
		return nil, err
	}
	var out []Found
	for _, r := range refs {
		doc, err := l.ReadDocument(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("signature %s of %s: %w", r.Digest, d, err)
		}
		for _, ly := range doc.Layers {
			if ly.MediaType != layout.MediaTypeSigstoreBundle {
				continue
			}
			out = append(out, bundleFound(ctx, l, r, ly))
		}
	}
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	if m, ok := layout.FindTag(idx, legacyTag(d)); ok && layout.IsManifest(m.MediaType) {
		doc, err := l.ReadDocument(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("legacy signature %s: %w", legacyTag(d), err)
		}
		for _, ly := range doc.Layers {
			if ly.MediaType == layout.MediaTypeCosignSimpleSigning {
				out = append(out, Found{Form: FormLegacy, Manifest: m, Layer: ly})
			}
		}
	}
	return out, nil
}

// bundleFound describes bundle layer ly of referrer m, with the key hint
// the bundle carries when it can be read.
func bundleFound(ctx context.Context, l *layout.Layout, m, ly ocispec.Descriptor) Found {
	f := Found{Form: FormBundle, Manifest: m, Layer: ly}
	if b, err := readSmall(ctx, l, ly); err == nil {
		if bun, err := parseBundle(b); err == nil {
			f.Hint = bundleHint(bun)
		}
	}
	return f
}

// Check verifies f as a signature of d by one of keys and returns the key.
func (f Found) Check(ctx context.Context, l *layout.Layout, d digest.Digest, keys []*PublicKey) (*PublicKey, error) {
	b, err := readSmall(ctx, l, f.Layer)
	if err != nil {
		return nil, err
	}
	if f.Form == FormLegacy {
		return verifySimpleSigning(b, f.Layer.Annotations[AnnotationCosignSignature], d, keys)
	}
	bun, err := parseBundle(b)
	if err != nil {
		return nil, err
	}
	return verifyBundle(bun, PredicateCosignSign, []digest.Digest{d}, keys)
}

// readSmall reads a signature layer, verified against its digest, refusing
// one over maxBundle bytes before reading it.
func readSmall(ctx context.Context, l *layout.Layout, d ocispec.Descriptor) ([]byte, error) {
	if d.Size > maxBundle {
		return nil, fmt.Errorf("signature layer %s: %d bytes, over the %d-byte limit: %w", d.Digest, d.Size, maxBundle, ErrBadSignature)
	}
	return l.ReadBlobJSON(ctx, d)
}
