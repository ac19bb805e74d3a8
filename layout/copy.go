package layout

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// CopyOptions tune CopyGraph and Copy.
type CopyOptions struct {
	// Referrers also copies every manifest whose subject is in the graph.
	Referrers bool
	Jobs      int
	// Tag, for Copy, tags the root in dst under Conflict; "" lists it
	// untagged.
	Tag      string
	Conflict Conflict
	// Progress, if not nil, is told about each blob copied (after the
	// overall total of the graph's bytes).
	Progress Progress
}

// CopyResult says what CopyGraph did.
type CopyResult struct {
	Copied, Reused           int
	CopiedBytes, ReusedBytes int64
	// Referrers are the referrer manifests copied (to list in dst's index).
	Referrers []ocispec.Descriptor
	// LegacySignatures are src's entries under cosign's legacy signature
	// tags (sha256-<hex>.sig) of manifests copied, with Referrers: copied
	// too, for dst to merge (IndexEdit.MergeLegacySignatures).
	LegacySignatures []ocispec.Descriptor
	// Tag is what Copy did to o.Tag (zero when untagged).
	Tag TagChange
}

// Copy copies root's graph from src into dst as CopyGraph does, then, in
// one index update of dst, records the referrers it copied and tags root
// (o.Tag under o.Conflict) or lists it untagged. The tag is checked before
// any blob is copied, and again under the index lock.
func Copy(ctx context.Context, src, dst *Layout, root ocispec.Descriptor, o CopyOptions) (*CopyResult, error) {
	if o.Tag != "" {
		if err := dst.CheckTagFree(ctx, o.Tag, root, o.Conflict); err != nil {
			return nil, err
		}
	}
	res, err := CopyGraph(ctx, src, dst, root, o)
	if err != nil {
		return nil, err
	}
	err = dst.UpdateIndex(ctx, func(e *IndexEdit) error {
		if err := e.AddReferrers(res.Referrers...); err != nil {
			return err
		}
		for _, d := range res.LegacySignatures {
			if _, err := e.MergeLegacySignatures(d.Annotations[ocispec.AnnotationRefName], d); err != nil {
				return err
			}
		}
		if o.Tag == "" {
			return e.AddUntagged(root)
		}
		var err error
		res.Tag, err = e.Tag(o.Tag, root, o.Conflict)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// CopyGraph copies the graph of root (and, with Referrers, the manifests
// that refer to it and cosign's legacy signature manifests of it) from src
// into dst, blob by blob, each verified against its digest as it lands;
// blobs dst already has are skipped. It does not touch dst's index.json:
// the caller tags root and lists the referrers, after every blob is in
// place.
func CopyGraph(ctx context.Context, src, dst *Layout, root ocispec.Descriptor, o CopyOptions) (*CopyResult, error) {
	var nodes []ocispec.Descriptor
	res := &CopyResult{}
	docs := map[digest.Digest]bool{}
	wo := WalkOptions{Referrers: o.Referrers, Seen: NewVisitSet()}
	visit := func(n *Node) error {
		if err := n.CheckSchema(); err != nil {
			return fmt.Errorf("%s %s in %s: %v: %w", n.Path(), n.Descriptor.Digest, src.Dir(), err, ErrCorrupt)
		}
		nodes = append(nodes, n.Descriptor)
		if n.Doc != nil {
			docs[n.Descriptor.Digest] = true
		}
		if n.Role == "referrer" {
			res.Referrers = append(res.Referrers, n.Descriptor)
		}
		return nil
	}
	if err := src.Walk(ctx, []Node{{Descriptor: root, Role: "root"}}, wo, visit); err != nil {
		return nil, err
	}
	if o.Referrers {
		sigs, err := src.LegacySignaturesOf(ctx, func(d digest.Digest) bool { return docs[d] })
		if err != nil {
			return nil, err
		}
		res.LegacySignatures = sigs
		roots := make([]Node, len(sigs))
		for i, d := range sigs {
			roots[i] = Node{Descriptor: d, Role: d.Annotations[ocispec.AnnotationRefName]}
		}
		if err := src.Walk(ctx, roots, wo, visit); err != nil {
			return nil, err
		}
	}
	var total int64
	for _, d := range nodes {
		total += d.Size
	}
	o.Progress.Total(total)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(o.Jobs, 1))
	for _, d := range nodes {
		g.Go(func() error {
			tr := o.Progress.Start(d.Digest.String(), d.Size)
			reused, err := copyBlob(gctx, src.Blobs(), dst.Blobs(), d, tr.Add)
			tr.Done(err)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if reused {
				res.Reused++
				res.ReusedBytes += d.Size
			} else {
				res.Copied++
				res.CopiedBytes += d.Size
			}
			return nil
		})
	}
	return res, g.Wait()
}

func copyBlob(ctx context.Context, src, dst *cas.Store, d ocispec.Descriptor, add func(int64)) (bool, error) {
	if ok, err := dst.Has(ctx, d); err != nil {
		return false, err
	} else if ok {
		add(d.Size)
		return true, nil
	}
	rc, err := src.Open(ctx, d.Digest)
	if err != nil {
		return false, fmt.Errorf("copy %s: %w", d.Digest, err)
	}
	defer rc.Close()
	w, err := dst.Writer(ctx, ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
	if err != nil {
		return false, err
	}
	if _, err := io.CopyBuffer(io.MultiWriter(w, progressWriter(add)), rc, make([]byte, 1<<20)); err != nil {
		w.Abort()
		return false, fmt.Errorf("copy %s: %w", d.Digest, err)
	}
	r, err := w.Commit(ctx)
	if err != nil {
		return false, fmt.Errorf("copy %s: %w", d.Digest, err)
	}
	return r.Reused, nil
}
