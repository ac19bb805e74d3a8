package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Gate checks the signatures of an archive while it is imported
// (`import --require-signature`): its Documents and Admit methods are
// archive.ImportOptions' hooks of those names. An archive passes when
// every tag it sets is signed by a key the policy trusts for that tag, and
// every other entry it lists — referrers and signature bookkeeping aside —
// by a key the policy names; otherwise nothing changes (ErrUnsigned or
// ErrBadSignature, naming each entry and why).
type Gate struct {
	l *layout.Layout
	p *Policy
}

// NewGate returns a gate importing into l under p.
func NewGate(l *layout.Layout, p *Policy) *Gate { return &Gate{l: l, p: p} }

// Documents checks, once an archive's documents and signatures have
// arrived and before its layers are read, that every manifest or index
// that nothing else in the archive holds (a root: what index.json can
// name) is signed by a key the policy names. Tags are not known yet, so
// Admit checks each tag's own keys at the end.
func (g *Gate) Documents(ctx context.Context, blobs []ocispec.Descriptor) error {
	docs := map[digest.Digest]*layout.Document{}
	for _, b := range blobs {
		if doc := g.tryDocument(ctx, b); doc != nil {
			docs[b.Digest] = doc
		}
	}
	sigs := g.signaturesIn(ctx, docs)
	var bad []string
	var errs []error
	for _, d := range roots(docs) {
		res := checkFound(ctx, g.l, Result{Digest: d}, sigs[d], g.p.AllKeys())
		if !res.Signed {
			bad = append(bad, fmt.Sprintf("%s: %s", d, strings.Join(res.Problems, "; ")))
			errs = append(errs, res.err())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("refused before its layers were read: %s%.0w", strings.Join(bad, "; "), errors.Join(errs...))
	}
	return nil
}

// Admit checks every entry of the archive's index.json before any tag
// changes, with the signatures the archive carries and those the layout
// already holds.
func (g *Gate) Admit(ctx context.Context, idx *ocispec.Index) error {
	docs := map[digest.Digest]*layout.Document{}
	err := g.l.Walk(ctx, layout.RootsOf(idx), layout.WalkOptions{}, func(n *layout.Node) error {
		if n.Doc != nil {
			docs[n.Descriptor.Digest] = n.Doc
		}
		return nil
	})
	if err != nil {
		return err
	}
	sigs := g.signaturesIn(ctx, docs)
	var bad []string
	var errs []error
	for _, e := range idx.Manifests {
		tag := e.Annotations[ocispec.AnnotationRefName]
		doc := docs[e.Digest]
		switch {
		case tag != "" && IsSignatureTag(tag), tag == "" && (doc == nil || doc.Subject != nil || layout.IsSignature(doc)):
			continue // bookkeeping, referrers, signatures
		}
		keys := g.p.AllKeys()
		if tag != "" {
			keys = g.p.KeysFor(tag)
		}
		found, err := Find(ctx, g.l, e.Digest)
		if err != nil {
			return err
		}
		res := checkFound(ctx, g.l, Result{Tag: tag, Digest: e.Digest}, append(found, sigs[e.Digest]...), keys)
		if tag != "" && len(keys) == 0 {
			res.Problems = []string{noSignature + " can count: no trust rule matches this tag"}
		}
		if !res.Signed {
			name := "untagged entry"
			if tag != "" {
				name = fmt.Sprintf("tag %q", tag)
			}
			bad = append(bad, fmt.Sprintf("%s (%s): %s", name, e.Digest, strings.Join(res.Problems, "; ")))
			errs = append(errs, res.err())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the archive holds what no trusted key signed: %s%.0w", strings.Join(bad, "; "), errors.Join(errs...))
	}
	return nil
}

// err is the sentinel an unsigned result stands for.
func (r Result) err() error {
	if len(r.Problems) > 0 && !strings.HasPrefix(r.Problems[0], noSignature) {
		return ErrBadSignature
	}
	return ErrUnsigned
}

// tryDocument reads b as a manifest or index, or returns nil (a config, a
// signature blob, anything else).
func (g *Gate) tryDocument(ctx context.Context, b ocispec.Descriptor) *layout.Document {
	if b.Size > strictjson.MaxDocument {
		return nil
	}
	raw, err := g.l.ReadBlobJSON(ctx, b)
	if err != nil {
		return nil
	}
	doc, err := layout.ParseDocument(raw, ocispec.Descriptor{})
	if err != nil {
		return nil
	}
	doc.Raw = raw
	return doc
}

// signaturesIn maps subjects to the signatures docs hold: bundle
// referrers by their subject, legacy simple-signing layers by the digest
// their payload names (checked again when verified).
func (g *Gate) signaturesIn(ctx context.Context, docs map[digest.Digest]*layout.Document) map[digest.Digest][]Found {
	out := map[digest.Digest][]Found{}
	for d, doc := range docs {
		if !layout.IsSignature(doc) {
			continue
		}
		m := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(doc.Raw))}
		for _, ly := range doc.Layers {
			switch {
			case ly.MediaType == layout.MediaTypeSigstoreBundle && doc.Subject != nil:
				out[doc.Subject.Digest] = append(out[doc.Subject.Digest], bundleFound(ctx, g.l, m, ly))
			case ly.MediaType == layout.MediaTypeCosignSimpleSigning:
				b, err := readSmall(ctx, g.l, ly)
				if err != nil {
					continue
				}
				var p payload.SimpleContainerImage
				if strictjson.Unmarshal(b, &p) != nil {
					continue
				}
				s := digest.Digest(p.Critical.Image.DockerManifestDigest)
				out[s] = append(out[s], Found{Form: FormLegacy, Manifest: m, Layer: ly})
			}
		}
	}
	return out
}

// roots are the documents in docs that nothing else there holds and that
// are not signatures, referrers, or referrers indexes (an index whose
// members are all referrers).
func roots(docs map[digest.Digest]*layout.Document) []digest.Digest {
	held := map[digest.Digest]bool{}
	for _, doc := range docs {
		if doc.IsIndex() {
			for _, m := range doc.Manifests {
				held[m.Digest] = true
			}
		}
	}
	var out []digest.Digest
	for d, doc := range docs {
		if held[d] || doc.Subject != nil || layout.IsSignature(doc) || referrersIndex(doc, docs) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func referrersIndex(doc *layout.Document, docs map[digest.Digest]*layout.Document) bool {
	if !doc.IsIndex() || len(doc.Manifests) == 0 {
		return false
	}
	for _, m := range doc.Manifests {
		if md := docs[m.Digest]; md == nil || md.Subject == nil {
			return false
		}
	}
	return true
}
