package sign

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Sentinel errors. Both are of the integrity class.
var (
	// ErrUnsigned: a tag (or transfer) has no signature by a trusted key.
	ErrUnsigned = errors.New("not signed by a trusted key")
	// ErrBadSignature: a signature is malformed, does not verify, or
	// names something else than what it is attached to.
	ErrBadSignature = errors.New("bad signature")
)

// maxBundle bounds a bundle or simple-signing payload read into memory.
const maxBundle = 1 << 20

// parseBundle decodes a Sigstore bundle strictly (no duplicate or
// case-variant keys, which protojson alone would let through) and
// validates it as sigstore-go does.
func parseBundle(b []byte) (*bundle.Bundle, error) {
	if len(b) > maxBundle {
		return nil, fmt.Errorf("bundle of %d bytes, over the %d-byte limit: %w", len(b), maxBundle, ErrBadSignature)
	}
	if err := strictjson.Check(b); err != nil {
		return nil, fmt.Errorf("bundle: %v: %w", err, ErrBadSignature)
	}
	var bun bundle.Bundle
	if err := bun.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("bundle: %v: %w", err, ErrBadSignature)
	}
	return &bun, nil
}

// bundleHint returns the public-key hint a bundle carries ("" if none).
func bundleHint(bun *bundle.Bundle) string {
	if pk := bun.GetVerificationMaterial().GetPublicKey(); pk != nil {
		return pk.GetHint()
	}
	return ""
}

// verifyBundle checks that bun is a DSSE signature, by one of keys, over
// an in-toto statement of predicate type predicate whose subjects include
// every digest in subjects. It returns the key that verified it. The hint
// in the bundle is not trusted: every key is tried.
func verifyBundle(bun *bundle.Bundle, predicate string, subjects []digest.Digest, keys []*PublicKey) (*PublicKey, error) {
	k, _, err := verifyStatement(bun, predicate, subjects, keys)
	return k, err
}

// verifyStatement is verifyBundle that also returns the statement.
func verifyStatement(bun *bundle.Bundle, predicate string, subjects []digest.Digest, keys []*PublicKey) (*PublicKey, *intoto.Statement, error) {
	if bun.GetDsseEnvelope() == nil {
		return nil, nil, fmt.Errorf("bundle holds no DSSE envelope (a message signature is a blob signature, not an image signature): %w", ErrBadSignature)
	}
	arts := make([]verify.ArtifactDigest, 0, len(subjects))
	for _, d := range subjects {
		raw, err := hex.DecodeString(d.Encoded())
		if err != nil {
			return nil, nil, fmt.Errorf("digest %s: %w", d, err)
		}
		arts = append(arts, verify.ArtifactDigest{Algorithm: d.Algorithm().String(), Digest: raw})
	}
	var errs []error
	for _, k := range keys {
		res, err := verifyWithKey(bun, k, arts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", k.Name, err))
			continue
		}
		if res.Statement == nil || res.Statement.GetPredicateType() != predicate {
			return nil, nil, fmt.Errorf("signed by %s, but the statement's predicate type is %q, not %q: %w", k.Name, res.Statement.GetPredicateType(), predicate, ErrBadSignature)
		}
		return k, res.Statement, nil
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("no key to check it against: %w", ErrUnsigned)
	}
	return nil, nil, fmt.Errorf("%w: %w", errors.Join(errs...), ErrBadSignature)
}

// verifyWithKey runs sigstore-go's verifier with k as the only trusted
// material, no transparency log and no timestamps (offline key
// verification, cosign's --insecure-ignore-tlog), requiring a key (not a
// certificate) and the artifact digests.
func verifyWithKey(bun *bundle.Bundle, k *PublicKey, arts []verify.ArtifactDigest) (*verify.VerificationResult, error) {
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(k.v, time.Time{}, time.Time{}), nil
	})
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, err
	}
	return v.Verify(bun, verify.NewPolicy(verify.WithArtifactDigests(arts), verify.WithKey()))
}

// verifySimpleSigning checks a legacy signature: sigB64 over pl by one of
// keys, and pl a cosign simple-signing payload naming subject.
func verifySimpleSigning(pl []byte, sigB64 string, subject digest.Digest, keys []*PublicKey) (*PublicKey, error) {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, fmt.Errorf("signature annotation is not base64: %w", ErrBadSignature)
	}
	var by *PublicKey
	for _, k := range keys {
		if k.v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(pl)) == nil {
			by = k
			break
		}
	}
	if by == nil {
		if len(keys) == 0 {
			return nil, fmt.Errorf("no key to check it against: %w", ErrUnsigned)
		}
		return nil, fmt.Errorf("the signature does not verify with any trusted key: %w", ErrBadSignature)
	}
	var p payload.SimpleContainerImage
	if err := strictjson.Unmarshal(pl, &p); err != nil {
		return nil, fmt.Errorf("simple-signing payload: %v: %w", err, ErrBadSignature)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return nil, fmt.Errorf("simple-signing payload of type %q, expected %q: %w", p.Critical.Type, payload.CosignSignatureType, ErrBadSignature)
	}
	if p.Critical.Image.DockerManifestDigest != subject.String() {
		return nil, fmt.Errorf("signed by %s for %s, not %s: %w", by.Name, p.Critical.Image.DockerManifestDigest, subject, ErrBadSignature)
	}
	return by, nil
}
