package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildTwin writes a file plan's raw layer (when p.rawStored) and its
// image-volume tar layer (p.twin) from one read of the file, or finds both
// in the stat cache. Without rawStored the raw layer is only described:
// its digest (the file's sha256, which the tar layer's tar-of annotation
// records) is computed, nothing is stored under it. A file that changed
// since it was planned, or while it is read, fails with ErrChanged.
func (p *layerPlan) buildTwin(ctx context.Context, l *layout.Layout, cache *statCache, tr layout.ProgressItem) (raw, twin Layer, err error) {
	rawKey := p.cacheKey(cache)
	twinKey := ""
	if rawKey != "" {
		sum := sha256.Sum256(p.twin.Prefix)
		twinKey = "t|" + hex.EncodeToString(sum[:]) + "|" + rawKey
	}
	if raw, twin, ok := p.cachedTwin(ctx, l, cache, rawKey, twinKey); ok {
		tr.Add(p.size)
		return raw, twin, nil
	}
	raw, twin, err = p.writeTwin(ctx, l.Blobs(), tr)
	if err != nil {
		return Layer{}, Layer{}, err
	}
	if p.rawStored {
		cache.store(rawKey, raw)
	}
	cached := twin
	cached.DiffID = raw.Descriptor.Digest // the cache keeps the file's digest there
	cache.store(twinKey, cached)
	return raw, twin, nil
}

// cachedTwin returns both layers from the cache if every blob needed is
// still stored.
func (p *layerPlan) cachedTwin(ctx context.Context, l *layout.Layout, cache *statCache, rawKey, twinKey string) (raw, twin Layer, ok bool) {
	twin, ok = cache.lookup(ctx, l, twinKey, MediaTypeTar, true)
	if !ok || twin.DiffID == "" || twin.Descriptor.Size != p.twin.TarSize() {
		return Layer{}, Layer{}, false
	}
	fileDigest := twin.DiffID
	twin.DiffID = twin.Descriptor.Digest
	if !p.rawStored {
		return describedRaw(p, fileDigest), twin, true
	}
	raw, ok = cache.lookup(ctx, l, rawKey, p.mediaType, false)
	if !ok || raw.Descriptor.Digest != fileDigest {
		return Layer{}, Layer{}, false
	}
	return raw, twin, true
}

func describedRaw(p *layerPlan, d digest.Digest) Layer {
	return Layer{Descriptor: ocispec.Descriptor{MediaType: p.mediaType, Digest: d, Size: p.twin.Size}, DiffID: d, Reused: true}
}

// writeTwin reads the file once into the tar layer's writer (after its
// prefix) and into the raw layer's writer, or only a hash of it.
func (p *layerPlan) writeTwin(ctx context.Context, s *cas.Store, tr layout.ProgressItem) (raw, twin Layer, err error) {
	f, err := openInput(p.path)
	if err != nil {
		return Layer{}, Layer{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Layer{}, Layer{}, fmt.Errorf("stat %s: %w", p.path, err)
	}
	if before.Size() != p.twin.Size {
		return Layer{}, Layer{}, fmt.Errorf("%s: %w (%d bytes when planned, %d when opened)", p.path, ErrChanged, p.twin.Size, before.Size())
	}
	tw, err := s.Writer(ctx, ocispec.Descriptor{MediaType: MediaTypeTar})
	if err != nil {
		return Layer{}, Layer{}, err
	}
	var rw *cas.Writer
	var hash *cas.AsyncHash
	var sink io.Writer
	if p.rawStored {
		if rw, err = s.Writer(ctx, ocispec.Descriptor{MediaType: p.mediaType}); err != nil {
			tw.Abort()
			return Layer{}, Layer{}, err
		}
		sink = rw
	} else {
		hash = cas.NewAsyncHash(digest.Canonical)
		sink = hash
	}
	fail := func(err error) (Layer, Layer, error) {
		tw.Abort()
		if rw != nil {
			rw.Abort()
		}
		if hash != nil {
			hash.Close()
		}
		return Layer{}, Layer{}, err
	}
	if _, err := tw.Write(p.twin.Prefix); err != nil {
		return fail(err)
	}
	n, err := io.CopyBuffer(io.MultiWriter(sink, tw), progressReader{f, tr.Add}, make([]byte, copyBufferSize))
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", p.path, err))
	}
	if err := checkUnchanged(f, p.path, before, n); err != nil {
		return fail(err)
	}
	if n != p.twin.Size {
		return fail(fmt.Errorf("%s: %w (%d bytes read, %d when planned)", p.path, ErrChanged, n, p.twin.Size))
	}
	if err := p.twin.WriteSuffix(tw); err != nil {
		return fail(err)
	}
	if hash != nil {
		d := hash.Sum()
		hash = nil
		raw = describedRaw(p, d)
		raw.Reused = false
	} else {
		r, err := rw.Commit(ctx)
		if err != nil {
			return fail(err)
		}
		raw = Layer{Descriptor: r.Descriptor, DiffID: r.Descriptor.Digest, Reused: r.Reused}
	}
	t, err := tw.Commit(ctx)
	if err != nil {
		return Layer{}, Layer{}, err
	}
	return raw, Layer{Descriptor: t.Descriptor, DiffID: t.Descriptor.Digest, Reused: t.Reused}, nil
}
