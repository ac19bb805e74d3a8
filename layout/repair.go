package layout

import (
	"context"
	"fmt"
	"sort"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// RepairSource supplies verified bytes for blobs a layout lacks or holds
// corrupt (`verify --repair FROM`): another layout (LayoutSource) or an
// archive (package archive).
type RepairSource interface {
	// Restore stores into dst every blob of want it can supply, each
	// through dst's blob Writer (verified against its digest before it
	// replaces anything), and returns the digests it stored. A blob it
	// lacks is not an error.
	Restore(ctx context.Context, dst *Layout, want map[digest.Digest]ocispec.Descriptor) ([]digest.Digest, error)
}

// RepairResult is what Repair did, and the layout's state after.
type RepairResult struct {
	Restored []digest.Digest // stored from the source, sorted
	Report   *Report         // Verify after the repair
}

// Repair restores the blobs of l's graph (o.Refs' graphs with referrers,
// or everything index.json reaches) that are missing or corrupt (cas
// Check) from src, then verifies l as Verify does. A restored manifest or
// index may reveal children that are missing too, so it works in rounds,
// at most MaxDepth+1. index.json is never changed. l must be writable.
func (l *Layout) Repair(ctx context.Context, src RepairSource, o VerifyOptions) (*RepairResult, error) {
	res := &RepairResult{}
	tried := map[digest.Digest]bool{}
	for range MaxDepth + 1 {
		want, err := l.needs(ctx, o.Refs)
		if err != nil {
			return nil, err
		}
		for d := range want {
			if tried[d] {
				delete(want, d) // the source did not have it last round
			}
			tried[d] = true
		}
		if len(want) == 0 {
			break
		}
		got, err := src.Restore(ctx, l, want)
		res.Restored = append(res.Restored, got...)
		if err != nil {
			return nil, fmt.Errorf("repair %s: %w", l.dir, err)
		}
		if len(got) == 0 {
			break
		}
	}
	sort.Slice(res.Restored, func(i, j int) bool { return res.Restored[i] < res.Restored[j] })
	rep, err := l.Verify(ctx, o)
	if err != nil {
		return nil, err
	}
	res.Report = rep
	return res, nil
}

// needs walks l's graph (refs with referrers, or all of index.json) and
// returns every blob that is missing or corrupt. Below a missing or
// corrupt manifest it cannot see: the next round, after its repair, does.
func (l *Layout) needs(ctx context.Context, refs []Ref) (map[digest.Digest]ocispec.Descriptor, error) {
	idx, _, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	roots := RootsOf(idx)
	if len(refs) > 0 {
		roots = roots[:0]
		for _, r := range refs {
			d, err := l.Resolve(ctx, r)
			if err != nil {
				return nil, err
			}
			roots = append(roots, Node{Descriptor: d, Role: r.Name()})
		}
	}
	want := map[digest.Digest]ocispec.Descriptor{}
	seen := map[digest.Digest]bool{}
	var visit func(d ocispec.Descriptor, depth int) error
	visit = func(d ocispec.Descriptor, depth int) error {
		if seen[d.Digest] || depth > MaxDepth || cas.Validate(d.Digest) != nil {
			return nil
		}
		seen[d.Digest] = true
		st, err := l.blobs.Check(ctx, d.Digest)
		if err != nil {
			return err
		}
		if st.State != cas.Trusted || st.Size != d.Size {
			want[d.Digest] = d
			return nil
		}
		if !IsDocument(d) {
			return nil
		}
		doc, err := l.ReadDocument(ctx, d)
		if err != nil {
			return nil // verify reports it
		}
		children := doc.Children()
		if len(refs) > 0 {
			refd, err := l.Referrers(ctx, d.Digest, "")
			if err == nil {
				children = append(children, refd...)
			}
		}
		for _, c := range children {
			if err := visit(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := visit(r.Descriptor, 0); err != nil {
			return nil, err
		}
	}
	return want, nil
}

// LayoutSource repairs from another layout (opened read-only will do).
type LayoutSource struct{ L *Layout }

// Restore copies every blob of want that s.L holds, verified as it lands.
func (s LayoutSource) Restore(ctx context.Context, dst *Layout, want map[digest.Digest]ocispec.Descriptor) ([]digest.Digest, error) {
	var got []digest.Digest
	for _, d := range sortedDescs(want) {
		if st, err := s.L.blobs.Check(ctx, d.Digest); err != nil {
			return got, err
		} else if st.State != cas.Trusted || st.Size != d.Size {
			continue // the source lacks it too (or holds it corrupt)
		}
		if _, err := copyBlob(ctx, s.L.blobs, dst.blobs, d, func(int64) {}); err != nil {
			return got, err
		}
		got = append(got, d.Digest)
	}
	return got, nil
}

func sortedDescs(m map[digest.Digest]ocispec.Descriptor) []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out
}
