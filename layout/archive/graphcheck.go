package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// checkGraph requires every blob reachable from idx (the archive's
// index.json) to be in l — imported just now or held before, as a delta
// export relies on — trusted (cas Check: verified since it last changed,
// re-hashed if not; a blob held before that rotted is corrupt, not held)
// and of the size its descriptor gives, and every manifest and index among
// them to parse. Unlike layout.Walk it
// does not stop at the first missing blob: the error names every one.
func checkGraph(ctx context.Context, l *layout.Layout, idx *ocispec.Index) error {
	var bad problems
	var missing []string
	visited := layout.NewVisitSet()
	var visit func(n *layout.Node, depth int) error
	visit = func(n *layout.Node, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := n.Descriptor
		if first, err := visited.Visit(d); err != nil {
			bad = append(bad, fmt.Errorf("%s: %w", n.Path(), err))
			return nil
		} else if !first {
			return nil
		}
		if depth > layout.MaxDepth {
			bad = append(bad, fmt.Errorf("%s %s: graph deeper than %d: %w", n.Path(), d.Digest, layout.MaxDepth, layout.ErrCorrupt))
			return nil
		}
		info, err := l.Blobs().Check(ctx, d.Digest)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			bad = append(bad, fmt.Errorf("%s (%s): %w", d.Digest, n.Path(), err))
			return nil
		case info.State == cas.Absent:
			bad = append(bad, fmt.Errorf("missing blob %s (%s): in neither the archive nor the layout: %w", d.Digest, n.Path(), layout.ErrMissingBlob))
			missing = append(missing, fmt.Sprintf("%s (%s)", d.Digest, n.Path()))
			return nil
		case info.State == cas.Corrupt:
			bad = append(bad, fmt.Errorf("corrupt blob %s (%s) in the layout, %s, and the archive does not carry it: %w", d.Digest, n.Path(), info.Why, layout.ErrCorrupt))
			return nil
		case info.Size != d.Size:
			bad = append(bad, fmt.Errorf("%s %s: size %d in descriptor, blob is %d: %w", n.Path(), d.Digest, d.Size, info.Size, cas.ErrSizeMismatch))
			return nil
		case !layout.IsDocument(d):
			return nil
		}
		doc, err := l.ReadDocument(ctx, d)
		if err != nil {
			bad = append(bad, fmt.Errorf("%s: %w", n.Path(), err))
			return nil
		}
		if mt := d.MediaType; mt == ocispec.MediaTypeImageManifest || mt == ocispec.MediaTypeImageIndex {
			if err := layout.ValidateSchema(doc.Raw, doc.IsIndex()); err != nil { // as verify does
				bad = append(bad, fmt.Errorf("%s %s: %v: %w", n.Path(), d.Digest, err, layout.ErrCorrupt))
				return nil
			}
		}
		for i, c := range doc.Children() {
			if err := visit(&layout.Node{Descriptor: c, Parent: n, Role: layout.ChildRole(doc, i)}, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	roots := layout.RootsOf(idx)
	for i := range roots {
		if err := visit(&roots[i], 0); err != nil {
			return err
		}
	}
	if err := bad.err(); err != nil {
		// "incomplete" only when blobs are missing; a bad size or
		// document is an inconsistency, not a missing part.
		what := "archive incomplete"
		for _, e := range bad {
			if !errors.Is(e, layout.ErrMissingBlob) {
				what = "archive inconsistent"
				break
			}
		}
		if n := idx.Annotations[AnnotationDelta]; n != "" && len(missing) == len(bad) {
			return deltaMissing(n, missing)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// deltaMissing says, in one line, that a delta export (which left out
// excluded blobs the receipt listed) met a layout without what it builds
// on.
func deltaMissing(excluded string, missing []string) error {
	first := missing
	more := ""
	if len(first) > 3 {
		first, more = first[:3], fmt.Sprintf(" and %d more", len(missing)-3)
	}
	return fmt.Errorf("the archive is a delta, made against a receipt (it leaves out %s blob(s) the receiving site held), and this layout lacks %d blob(s) it builds on: %s%s; import the archive it builds on first, or export again against this layout's receipt: %w",
		excluded, len(missing), strings.Join(first, ", "), more, layout.ErrMissingBlob)
}
