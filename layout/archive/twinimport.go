package archive

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// rebuildTwins rebuilds every tar layer the archive carried as a recipe
// (twins.go) and the layout lacks: header bytes, then the raw blob's bytes
// as stored, then zeros, staged and committed like any imported blob — so
// the layer is stored only if it has exactly the digest and size its
// recipe (and the manifests) promise. It runs after the archive's last
// byte and before the graph check, so a wrong recipe or raw blob fails
// the import before any tag changes. Rebuilt bytes count against the
// import's budget.
func (im *importer) rebuildTwins(ctx context.Context, o ImportOptions) (err error) {
	docs, err := twinDocDigests(im.index)
	if err != nil {
		return fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	// Two passes, one document in memory at a time: the size of what is
	// missing (checked against the budget before a byte is written), then
	// the rebuild.
	var count int
	var total int64
	for _, dd := range docs {
		err := im.eachMissingTwin(ctx, dd, func(r *twinRecipe) error {
			count++
			total += r.Size
			return nil
		})
		if err != nil {
			return err
		}
	}
	if count == 0 {
		return nil
	}
	if total > im.s.left() {
		return fmt.Errorf("rebuilding %d tar layers needs %d bytes, more than the %d left (%s): %w", count, total, im.s.left(), im.s.budget, im.s.over)
	}
	im.s.limit -= total
	tr := o.Progress.Start(fmt.Sprintf("rebuild %d tar layer(s)", count), total)
	defer func() { tr.Done(err) }()
	for _, dd := range docs {
		err := im.eachMissingTwin(ctx, dd, func(r *twinRecipe) error {
			if err := im.rebuildTwin(ctx, r, tr.Add); err != nil {
				return err
			}
			im.res.Rebuilt++
			im.res.RebuiltBytes += r.Size
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachMissingTwin calls fn with each recipe of document dd whose layer the
// layout lacks.
func (im *importer) eachMissingTwin(ctx context.Context, dd digest.Digest, fn func(*twinRecipe) error) error {
	doc, err := im.readTwinsDoc(ctx, dd)
	if err != nil {
		return err
	}
	for i := range doc.Twins {
		r := &doc.Twins[i]
		held, err := im.l.Blobs().Has(ctx, r.tarDesc())
		if err != nil {
			return err
		}
		if !held {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// readTwinsDoc reads a recipe document the archive listed: a blob it
// carried (already verified against its digest) or one the layout holds.
func (im *importer) readTwinsDoc(ctx context.Context, d digest.Digest) (*twinsDoc, error) {
	info, err := im.l.Blobs().Stat(ctx, d)
	switch {
	case errors.Is(err, cas.ErrNotFound):
		return nil, fmt.Errorf("recipe document %s, listed in the archive's index.json, is in neither the archive nor the layout: %w", d, ErrInvalid)
	case err != nil:
		return nil, fmt.Errorf("recipe document %s: %w", d, err)
	case info.Size > maxTwinsDoc:
		return nil, fmt.Errorf("recipe document %s: %d bytes, more than %d: %w", d, info.Size, maxTwinsDoc, ErrInvalid)
	}
	rc, err := im.l.Blobs().OpenVerified(ctx, ocispec.Descriptor{Digest: d, Size: info.Size})
	if err != nil {
		return nil, fmt.Errorf("recipe document %s: %w", d, err)
	}
	defer rc.Close()
	b, err := strictjson.ReadAll(rc, maxTwinsDoc)
	if err != nil {
		return nil, fmt.Errorf("recipe document %s: %w", d, err)
	}
	doc, err := decodeTwins(b)
	if err != nil {
		return nil, fmt.Errorf("recipe document %s: %v: %w", d, err, ErrInvalid)
	}
	return doc, nil
}

// rebuildTwin stages header + raw bytes + zeros as r.Digest and commits it.
func (im *importer) rebuildTwin(ctx context.Context, r *twinRecipe, add func(int64)) error {
	who := fmt.Sprintf("tar layer %s (recipe over raw blob %s)", r.Digest, r.Of.Digest)
	info, err := im.l.Blobs().Stat(ctx, r.Of.Digest)
	switch {
	case errors.Is(err, cas.ErrNotFound):
		return fmt.Errorf("%s: the raw blob is in neither the archive nor the layout: %w", who, layout.ErrMissingBlob)
	case err != nil:
		return fmt.Errorf("%s: %w", who, err)
	case info.Size != r.Of.Size:
		return fmt.Errorf("%s: the recipe says the raw blob has %d bytes, it has %d: %w", who, r.Of.Size, info.Size, ErrInvalid)
	}
	rc, err := im.l.Blobs().OpenVerified(ctx, r.rawDesc())
	if err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	defer rc.Close()
	w, err := im.l.Blobs().Writer(ctx, r.tarDesc())
	if err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	pw := progressWriter{w, add}
	if _, err := pw.Write(r.Prefix); err != nil {
		w.Abort()
		return fmt.Errorf("%s: %w", who, err)
	}
	if _, err := io.CopyBuffer(pw, cas.ContextReader(ctx, rc), im.buf); err != nil {
		w.Abort()
		return fmt.Errorf("%s: %w", who, err)
	}
	if err := writeZeros(pw, r.Suffix); err != nil {
		w.Abort()
		return fmt.Errorf("%s: %w", who, err)
	}
	if _, err := w.Commit(ctx); err != nil {
		return fmt.Errorf("%s: rebuilt from the archive's recipe: %w", who, err)
	}
	return nil
}

// progressWriter reports what passes through it.
type progressWriter struct {
	w   io.Writer
	add func(int64)
}

func (p progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.add(int64(n))
	return n, err
}
