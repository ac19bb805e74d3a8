package layout

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// GCEntry is an index.json entry gc drops because what it belongs to is
// gone: a referrer listed untagged, a referrers-tag index (sha256-<hex>)
// or a cosign tag (sha256-<hex>.sig/.att/.sbom) whose subject nothing
// else keeps.
type GCEntry struct {
	Tag        string             `json:"tag,omitempty"` // "" for an untagged referrer
	Descriptor ocispec.Descriptor `json:"descriptor"`
	Subject    digest.Digest      `json:"subject"`
}

// dependent is an index.json entry that lives only while its subject does.
type dependent struct {
	node    Node
	subject digest.Digest
}

// liveSet works out what gc keeps of a layout whose index.json lists
// entries. Roots are the tagged entries and the untagged entries without
// a subject (a user lists those deliberately, e.g. `copy` with no tag).
// Dependents — untagged referrers, referrers-tag indexes and cosign tags —
// are kept while their subject is reachable from what is kept, to a fixed
// point (a signature of an SBOM of a model lives as long as the model).
// It returns every digest kept and the entries to drop. A manifest or
// index that cannot be read is an error: what it holds is unknown.
func (l *Layout) liveSet(ctx context.Context, entries []ocispec.Descriptor) (map[digest.Digest]ocispec.Descriptor, []GCEntry, error) {
	var roots []Node
	var deps []dependent
	for i, d := range entries {
		n := Node{Descriptor: d, Role: d.Annotations[ocispec.AnnotationRefName]}
		if n.Role == "" {
			n.Role = fmt.Sprintf("index.json manifests[%d]", i)
		}
		tag, tagged := d.Annotations[ocispec.AnnotationRefName]
		if s, ok := TagSubject(tag); ok {
			deps = append(deps, dependent{n, s})
			continue
		}
		if !tagged && IsDocument(d) {
			doc, err := l.ReadDocument(ctx, d)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", n.Role, d.Digest, err)
			}
			if doc.Subject != nil {
				deps = append(deps, dependent{n, doc.Subject.Digest})
				continue
			}
		}
		roots = append(roots, n)
	}
	live := map[digest.Digest]ocispec.Descriptor{}
	seen := NewVisitSet()
	walk := func(nodes []Node) error {
		return l.Walk(ctx, nodes, WalkOptions{Seen: seen, AnySize: true}, func(n *Node) error {
			live[n.Descriptor.Digest] = n.Descriptor
			return nil
		})
	}
	if err := walk(roots); err != nil {
		return nil, nil, err
	}
	for {
		var next []Node
		rest := deps[:0]
		for _, dep := range deps {
			if _, ok := live[dep.subject]; ok {
				next = append(next, dep.node)
			} else {
				rest = append(rest, dep)
			}
		}
		deps = rest
		if len(next) == 0 {
			break
		}
		if err := walk(next); err != nil {
			return nil, nil, err
		}
	}
	drop := make([]GCEntry, 0, len(deps))
	for _, dep := range deps {
		d := dep.node.Descriptor
		drop = append(drop, GCEntry{Tag: d.Annotations[ocispec.AnnotationRefName], Descriptor: d, Subject: dep.subject})
	}
	return live, drop, nil
}
