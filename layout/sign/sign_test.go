package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestSignVerifyBundle(t *testing.T) {
	ctx := context.Background()
	l := newLayout(t)
	desc := artifact(t, l, "v1", "hello")
	s, k, _ := cosignKeys(t, t.TempDir(), "cosign")
	_, other, _ := cosignKeys(t, t.TempDir(), "other")

	sigs, err := Sign(ctx, l, desc, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 || sigs[0].Subject.Digest != desc.Digest || sigs[0].Hint != k.Hint {
		t.Fatalf("signatures %+v", sigs)
	}
	// The referrer is laid out as cosign v3 writes it.
	doc, err := l.ReadDocument(ctx, sigs[0].Referrer)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ArtifactType != layout.MediaTypeSigstoreBundle || doc.Config.MediaType != ocispec.MediaTypeEmptyJSON ||
		doc.Config.ArtifactType != layout.MediaTypeSigstoreBundle || len(doc.Layers) != 1 ||
		doc.Layers[0].MediaType != layout.MediaTypeSigstoreBundle || doc.Subject.Digest != desc.Digest ||
		doc.Annotations[AnnotationBundleContent] != BundleContentDSSE ||
		doc.Annotations[AnnotationBundlePredicateType] != PredicateCosignSign ||
		doc.Annotations[ocispec.AnnotationCreated] == "" {
		t.Fatalf("referrer manifest:\n%s", doc.Raw)
	}
	b, err := l.ReadBlobJSON(ctx, doc.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	var bun struct {
		MediaType            string
		VerificationMaterial struct {
			PublicKey   struct{ Hint string }
			TlogEntries []any
		}
		DsseEnvelope struct {
			Payload, PayloadType string
		}
	}
	if err := json.Unmarshal(b, &bun); err != nil {
		t.Fatal(err)
	}
	if bun.MediaType != layout.MediaTypeSigstoreBundle || bun.VerificationMaterial.PublicKey.Hint != k.Hint ||
		len(bun.VerificationMaterial.TlogEntries) != 0 || bun.DsseEnvelope.PayloadType != PayloadTypeInToto {
		t.Fatalf("bundle:\n%s", b)
	}
	pl, _ := base64.StdEncoding.DecodeString(bun.DsseEnvelope.Payload)
	if !strings.Contains(string(pl), desc.Digest.Encoded()) || !strings.Contains(string(pl), PredicateCosignSign) {
		t.Fatalf("statement: %s", pl)
	}
	// Listed as a referrer, in the subject's referrers index too.
	refs, err := l.Referrers(ctx, desc.Digest, layout.MediaTypeSigstoreBundle)
	if err != nil || len(refs) != 1 {
		t.Fatalf("referrers %v %v", refs, err)
	}
	idx, _ := l.Index(ctx)
	if _, ok := layout.FindTag(idx, layout.ReferrersTag(desc.Digest)); !ok {
		t.Fatal("no referrers-tag index")
	}

	rep, err := Verify(ctx, l, nil, KeysPolicy(k))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() != nil || len(rep.Results) != 1 || rep.Results[0].By[0].Key != k.Name {
		t.Fatalf("verify: %+v %v", rep, rep.Err())
	}
	rep, err = Verify(ctx, l, nil, KeysPolicy(other))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rep.Err(), ErrBadSignature) {
		t.Fatalf("verify with another key: %+v %v", rep, rep.Err())
	}
}

func TestSignLegacyAndPKCS8(t *testing.T) {
	ctx := context.Background()
	for _, ed := range []bool{false, true} {
		l := newLayout(t)
		desc := artifact(t, l, "v1", "hello")
		s, k := pkcs8Keys(t, t.TempDir(), ed)
		s2, k2 := pkcs8Keys(t, t.TempDir(), ed)
		for _, signer := range []*Signer{s, s2} {
			if _, err := Sign(ctx, l, desc, signer, Options{Legacy: true}); err != nil {
				t.Fatal(err)
			}
		}
		idx, _ := l.Index(ctx)
		m, ok := layout.FindTag(idx, legacyTag(desc.Digest))
		if !ok {
			t.Fatal("no .sig tag")
		}
		doc, err := l.ReadDocument(ctx, m)
		if err != nil || len(doc.Layers) != 2 {
			t.Fatalf("legacy manifest keeps both signatures: %v %s", err, doc.Raw)
		}
		found, err := Find(ctx, l, desc.Digest)
		if err != nil || len(found) != 4 {
			t.Fatalf("found %+v %v", found, err)
		}
		for _, f := range found {
			if _, err := f.Check(ctx, l, desc.Digest, []*PublicKey{k, k2}); err != nil {
				t.Fatalf("ed25519=%v %s: %v", ed, f.Form, err)
			}
		}
		// The .sig tag is bookkeeping: verify of the whole layout skips it.
		rep, err := Verify(ctx, l, nil, KeysPolicy(k))
		if err != nil || rep.Err() != nil || len(rep.Results) != 1 || len(rep.Results[0].By) != 2 {
			t.Fatalf("verify: %+v %v %v", rep, err, rep.Err())
		}
	}
}
