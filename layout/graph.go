package layout

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxDepth bounds how deep a graph walk goes (I8).
const MaxDepth = 32

// Node is one descriptor met on a graph walk.
type Node struct {
	Descriptor ocispec.Descriptor
	Parent     *Node     // nil for a root
	Role       string    // "manifest", "config", "layer[3]", "manifests[0]"
	Doc        *Document // set for manifests and indexes
}

// Path describes where n sits, for messages: "layer 1 of v1".
func (n *Node) Path() string {
	s := n.Role
	for p := n.Parent; p != nil; p = p.Parent {
		s += " of " + p.Role
	}
	return s
}

// WalkOptions tune Walk.
type WalkOptions struct {
	// Referrers also walks every manifest in index.json whose subject is a
	// visited manifest, recursively.
	Referrers bool
	// Seen, if not nil, is the visited set; passing the same set to
	// several walks, even concurrent ones, visits each digest once across
	// all of them.
	Seen *VisitSet
	// AnySize visits a digest once whatever sizes it is listed with (gc's
	// live set: what a digest's descriptors disagree on does not change
	// that it is in use). Otherwise that is an error (VisitSet.Visit).
	AnySize bool
}

// VisitSet is a set of digests safe for concurrent use, remembering the
// size each was first visited with.
type VisitSet struct {
	mu sync.Mutex
	m  map[digest.Digest]int64 // size; -1 when added without one
}

// NewVisitSet returns an empty set.
func NewVisitSet() *VisitSet { return &VisitSet{m: map[digest.Digest]int64{}} }

// Add adds d and reports whether it was new.
func (s *VisitSet) Add(d digest.Digest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[d]; ok {
		return false
	}
	s.m[d] = -1
	return true
}

// Visit adds desc and reports whether its digest was new. One digest
// listed with two sizes is ambiguous (RELIABILITY I10: a reader that
// checks only the first would pass what the second breaks): an error
// wrapping ErrCorrupt naming both.
func (s *VisitSet) Visit(desc ocispec.Descriptor) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	size, ok := s.m[desc.Digest]
	switch {
	case !ok:
		s.m[desc.Digest] = desc.Size
		return true, nil
	case size == -1:
		s.m[desc.Digest] = desc.Size
	case size != desc.Size:
		return false, fmt.Errorf("%s is listed with size %d and, elsewhere in the graph, size %d: one digest has one size: %w", desc.Digest, desc.Size, size, ErrCorrupt)
	}
	return false, nil
}

// Walk visits every descriptor reachable from roots, each digest once,
// parents before children. A missing manifest or index stops the walk with
// ErrMissingBlob; a missing leaf blob is passed to fn like any other (fn
// decides). Depth is bounded by MaxDepth.
func (l *Layout) Walk(ctx context.Context, roots []Node, o WalkOptions, fn func(*Node) error) error {
	visited := o.Seen
	if visited == nil {
		visited = NewVisitSet()
	}
	var refs map[digest.Digest][]ocispec.Descriptor
	if o.Referrers {
		var err error
		if refs, err = l.referrerMap(ctx); err != nil {
			return err
		}
	}
	var visit func(n *Node, depth int) error
	visit = func(n *Node, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := n.Descriptor
		if o.AnySize {
			if !visited.Add(d.Digest) {
				return nil
			}
		} else if first, err := visited.Visit(d); err != nil {
			return fmt.Errorf("%s: %w", n.Path(), err)
		} else if !first {
			return nil
		}
		if depth > MaxDepth {
			return fmt.Errorf("%s %s: graph deeper than %d: %w", n.Path(), d.Digest, MaxDepth, ErrCorrupt)
		}
		if IsDocument(d) {
			doc, err := l.ReadDocument(ctx, d)
			if errors.Is(err, cas.ErrNotFound) {
				return fmt.Errorf("%s: %w: %w", n.Path(), ErrMissingBlob, err)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", n.Path(), err)
			}
			n.Doc = doc
		}
		if err := fn(n); err != nil {
			return err
		}
		if n.Doc != nil {
			for i, c := range n.Doc.Children() {
				if err := visit(&Node{Descriptor: c, Parent: n, Role: ChildRole(n.Doc, i)}, depth+1); err != nil {
					return err
				}
			}
		}
		for _, r := range refs[d.Digest] {
			if err := visit(&Node{Descriptor: r, Parent: n, Role: "referrer"}, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range roots {
		if err := visit(&roots[i], 0); err != nil {
			return err
		}
	}
	return nil
}

// ChildRole names a document's i-th child: "config", "layer N" or
// "manifest N".
func ChildRole(doc *Document, i int) string {
	switch {
	case doc.IsIndex():
		return fmt.Sprintf("manifest %d", i)
	case i == 0:
		return "config"
	}
	return fmt.Sprintf("layer %d", i-1)
}

// Reachable returns every digest gc keeps, with sizes: what index.json's
// roots reach, and what referrers of it reach (see GC).
func (l *Layout) Reachable(ctx context.Context) (map[digest.Digest]ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	live, _, err := l.liveSet(ctx, idx.Manifests)
	return live, err
}

// RootsOf turns index.json's entries into walk roots named by their tags.
func RootsOf(idx *ocispec.Index) []Node {
	roots := make([]Node, 0, len(idx.Manifests))
	for i, d := range idx.Manifests {
		role := d.Annotations[ocispec.AnnotationRefName]
		if role == "" {
			role = fmt.Sprintf("index.json manifests[%d]", i)
		}
		roots = append(roots, Node{Descriptor: d, Role: role})
	}
	return roots
}
