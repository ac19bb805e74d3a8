package registry

import (
	"context"
	"fmt"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
)

// Copy copies root (what src.Resolve returned) from one registry
// repository to another with oras-go's copy: the graph, and with
// Options.Referrers the artifacts that refer to root (recursively), blobs
// mounted when both repositories are on one registry, tag (if not "")
// naming root in dst. Nothing passes through a layout, so nothing here
// resumes: an interrupted copy re-sends the blobs it had not finished.
func Copy(ctx context.Context, src *Remote, root ocispec.Descriptor, dst *Remote, tag string, o Options) (*Result, error) {
	res := &Result{Root: root}
	var mu sync.Mutex
	count := func(desc ocispec.Descriptor, skipped, mounted bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case mounted:
			res.Mounted++
			res.SkippedBytes += desc.Size
		case skipped:
			res.Skipped++
			res.SkippedBytes += desc.Size
		default:
			res.Sent++
			res.SentBytes += desc.Size
		}
	}
	g := oras.CopyGraphOptions{
		Concurrency:      o.jobs(),
		MaxMetadataBytes: src.Repo.MaxMetadataBytes,
		PostCopy:         func(_ context.Context, d ocispec.Descriptor) error { count(d, false, false); return nil },
		OnCopySkipped:    func(_ context.Context, d ocispec.Descriptor) error { count(d, true, false); return nil },
		OnMounted:        func(_ context.Context, d ocispec.Descriptor) error { count(d, false, true); return nil },
	}
	if src.Ref.Registry == dst.Ref.Registry && src.Ref.Repository != dst.Ref.Repository {
		from := []string{src.Ref.Repository}
		g.MountFrom = func(context.Context, ocispec.Descriptor) ([]string, error) { return from, nil }
	}
	var err error
	if o.Referrers {
		eo := oras.ExtendedCopyGraphOptions{CopyGraphOptions: g, Depth: 32}
		eo.FindPredecessors = func(ctx context.Context, s content.ReadOnlyGraphStorage, d ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			preds, err := s.Predecessors(ctx, d)
			mu.Lock()
			res.Referrers = append(res.Referrers, preds...)
			mu.Unlock()
			return preds, err
		}
		err = oras.ExtendedCopyGraph(ctx, src.Repo, dst.Repo, root, eo)
	} else {
		err = oras.CopyGraph(ctx, src.Repo, dst.Repo, root, g)
	}
	if err != nil {
		return nil, fmt.Errorf("copy %s to %s: %w", src, dst, classify(err))
	}
	if tag != "" {
		if err := dst.Repo.Tag(ctx, root, tag); err != nil {
			return nil, fmt.Errorf("tag %s in %s: %w", root.Digest, dst, classify(err))
		}
	}
	if o.Referrers {
		if err := copyLegacySignature(ctx, src, root, dst, g, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// copyLegacySignature copies cosign's legacy signature of root (the
// sha256-<hex>.sig tag beside it in src), if src has one, to the same tag
// in dst, after root: oras-go's referrers copy does not see it, being a
// tag. Only root's own signature: a signature of a manifest inside an
// index is left (cosign signs what it is given, usually the index).
func copyLegacySignature(ctx context.Context, src *Remote, root ocispec.Descriptor, dst *Remote, g oras.CopyGraphOptions, res *Result) error {
	d, ok, err := legacySignatureOf(ctx, src, root.Digest)
	if err != nil || !ok {
		return err
	}
	tag := d.Annotations[ocispec.AnnotationRefName]
	if err := oras.CopyGraph(ctx, src.Repo, dst.Repo, d, g); err != nil {
		return fmt.Errorf("copy %s:%s to %s: %w", src, tag, dst, classify(err))
	}
	if err := dst.Repo.Tag(ctx, d, tag); err != nil {
		return fmt.Errorf("tag %s in %s: %w", tag, dst, classify(err))
	}
	res.LegacySignatures = append(res.LegacySignatures, d)
	return nil
}
