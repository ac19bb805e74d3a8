package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/errdef"
)

// Pull copies root (what src.Resolve returned) and its graph from the
// registry into l: manifests and indexes first, each
// read within the JSON budget, checked against its digest and stored
// through the layout's document door; then every blob the layout lacks,
// in parallel, verified by cas before it is committed and resumed from a
// checkpoint if an earlier run was cut short. With Options.Referrers the
// artifacts that refer to anything in the graph come too (the referrers
// API, or the sha256-<hex> tag where the registry lacks it). Only when
// every blob is stored does one index update record the referrers and
// tag the root (Options.Tag, under Options.Conflict) or list it untagged;
// an interrupted or failed pull leaves index.json as it was.
func Pull(ctx context.Context, src *Remote, root ocispec.Descriptor, l *layout.Layout, o Options) (*Result, error) {
	if o.Tag != "" {
		if err := l.CheckTagFree(ctx, o.Tag, root, o.Conflict); err != nil {
			return nil, err
		}
	}
	p := &puller{src: src, l: l, o: o, res: &Result{Root: root}, seen: layout.NewVisitSet(),
		dl: &downloader{l: l, src: src, resume: !o.NoResume, notify: o.Notify}}
	if err := p.documents(ctx, root); err != nil {
		return nil, err
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(o.jobs())
	for _, b := range p.blobs {
		eg.Go(func() error { return p.blob(ectx, b) })
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		if err := e.AddReferrers(p.res.Referrers...); err != nil {
			return err
		}
		for _, d := range p.res.LegacySignatures {
			if _, err := e.MergeLegacySignatures(d.Annotations[ocispec.AnnotationRefName], d); err != nil {
				return err
			}
		}
		if o.Tag == "" {
			return e.AddUntagged(root)
		}
		var err error
		p.res.Tag, err = e.Tag(o.Tag, root, o.Conflict)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p.res, nil
}

// Resolve finds the descriptor of the manifest or index r names: its tag
// ("latest" when none was given) or its digest, which the registry's
// answer must match.
func (r *Remote) Resolve(ctx context.Context) (ocispec.Descriptor, error) {
	ref := r.Ref.Reference
	if ref == "" {
		ref = "latest"
	}
	desc, err := r.Repo.Resolve(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", r.Ref.String(), classify(err))
	}
	if d, err := r.Ref.Digest(); err == nil && desc.Digest != d {
		return ocispec.Descriptor{}, fmt.Errorf("registry resolves %s to %s: %w", d, desc.Digest, cas.ErrDigestMismatch)
	}
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, nil
}

type puller struct {
	src   *Remote
	l     *layout.Layout
	o     Options
	dl    *downloader
	seen  *layout.VisitSet
	mu    sync.Mutex
	blobs []ocispec.Descriptor
	res   *Result
	// referrerOf is the subject the registry listed each referrer for:
	// the referrer's own subject field must name it.
	referrerOf map[digest.Digest]digest.Digest
}

// documents fetches root's documents level by level (each level in
// parallel), with their referrers, and collects the blobs they name.
func (p *puller) documents(ctx context.Context, root ocispec.Descriptor) error {
	p.seen.Add(root.Digest)
	level := []ocispec.Descriptor{root}
	for depth := 0; len(level) > 0; depth++ {
		if depth > layout.MaxDepth {
			return fmt.Errorf("graph of %s deeper than %d: %w", root.Digest, layout.MaxDepth, layout.ErrCorrupt)
		}
		var next []ocispec.Descriptor
		eg, ectx := errgroup.WithContext(ctx)
		eg.SetLimit(p.o.jobs())
		for _, d := range level {
			eg.Go(func() error {
				found, err := p.document(ectx, d)
				p.mu.Lock()
				next = append(next, found...)
				p.mu.Unlock()
				return err
			})
		}
		if err := eg.Wait(); err != nil {
			return err
		}
		level = next
	}
	return nil
}

// document fetches and stores one manifest or index, queues its blobs,
// and returns the documents to fetch next: its children and referrers.
func (p *puller) document(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	doc, err := p.fetchDocument(ctx, desc)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	subj, isReferrer := p.referrerOf[desc.Digest]
	p.mu.Unlock()
	if isReferrer && (doc.Subject == nil || doc.Subject.Digest != subj) {
		got := "no subject"
		if doc.Subject != nil {
			got = "subject " + doc.Subject.Digest.String()
		}
		return nil, fmt.Errorf("registry %s lists %s as a referrer of %s, but it has %s: %w", p.src.Ref.Registry, desc.Digest, subj, got, layout.ErrCorrupt)
	}
	var next []ocispec.Descriptor
	for _, c := range doc.Children() {
		if first, err := p.seen.Visit(c); err != nil {
			return nil, fmt.Errorf("from %s: %s: %w", p.src.Ref.Registry, desc.Digest, err)
		} else if !first {
			continue
		}
		if layout.IsDocument(c) {
			next = append(next, c)
			continue
		}
		p.mu.Lock()
		p.blobs = append(p.blobs, c)
		p.mu.Unlock()
	}
	if !p.o.Referrers {
		return next, nil
	}
	if sig, ok, err := p.legacySignature(ctx, desc); err != nil {
		return nil, err
	} else if ok {
		next = append(next, sig)
	}
	listed := 0
	err = p.src.Repo.Referrers(ctx, desc, "", func(refs []ocispec.Descriptor) error {
		if listed += len(refs); listed > layout.MaxDescriptors {
			return fmt.Errorf("registry %s lists more than %d referrers of %s: %w", p.src.Ref.Registry, layout.MaxDescriptors, desc.Digest, ErrProtocol)
		}
		for _, r := range refs {
			if err := cas.Validate(r.Digest); err != nil {
				return fmt.Errorf("referrer of %s: %w", desc.Digest, err)
			}
			if !layout.IsDocument(r) || !p.seen.Add(r.Digest) {
				continue
			}
			r = ocispec.Descriptor{MediaType: r.MediaType, Digest: r.Digest, Size: r.Size, ArtifactType: r.ArtifactType, Annotations: r.Annotations}
			next = append(next, r)
			p.mu.Lock()
			p.res.Referrers = append(p.res.Referrers, r)
			if p.referrerOf == nil {
				p.referrerOf = map[digest.Digest]digest.Digest{}
			}
			p.referrerOf[r.Digest] = desc.Digest
			p.mu.Unlock()
		}
		return nil
	})
	if errors.Is(err, errdef.ErrTooManyPages) {
		return nil, fmt.Errorf("referrers of %s: registry %s links page after page (%v): %w", desc.Digest, p.src.Ref.Registry, err, ErrProtocol)
	}
	if err != nil {
		return nil, fmt.Errorf("referrers of %s: %w", desc.Digest, classify(err))
	}
	return next, nil
}

// fetchDocument reads desc from the registry (refusing one over the JSON
// budget before reading it), checks size and digest, and stores it
// through PutDocument, which applies every reader's checks.
func (p *puller) fetchDocument(ctx context.Context, desc ocispec.Descriptor) (*layout.Document, error) {
	if err := layout.CheckDescriptor(desc); err != nil {
		return nil, fmt.Errorf("from %s: %v: %w", p.src.Ref.Registry, err, layout.ErrCorrupt)
	}
	if desc.Size > strictjson.MaxDocument {
		return nil, fmt.Errorf("%s %s is %d bytes, over the %d-byte budget for a manifest: %w", desc.MediaType, desc.Digest, desc.Size, strictjson.MaxDocument, strictjson.ErrTooLarge)
	}
	rc, err := p.src.Repo.Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", desc.Digest, classify(err))
	}
	defer rc.Close()
	vr := cas.NewVerifyReader(rc, desc)
	b, err := strictjson.ReadAll(vr, strictjson.MaxDocument)
	if err == nil {
		err = vr.Verify()
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s from %s: %w", desc.Digest, p.src.Ref.Registry, err)
	}
	stored, err := p.l.PutDocument(ctx, desc.MediaType, b)
	if errors.Is(err, layout.ErrInvalidArgument) {
		return nil, fmt.Errorf("%s from %s: %v: %w", desc.Digest, p.src.Ref.Registry, err, layout.ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	if stored.Digest != desc.Digest {
		return nil, fmt.Errorf("stored %s as %s: %w", desc.Digest, stored.Digest, cas.ErrDigestMismatch)
	}
	p.count(desc, false, 0)
	return layout.ParseDocument(b, desc)
}

// blob fetches one blob into the layout unless it has it.
func (p *puller) blob(ctx context.Context, desc ocispec.Descriptor) error {
	if err := layout.CheckDescriptor(desc); err != nil {
		return fmt.Errorf("from %s: %v: %w", p.src.Ref.Registry, err, layout.ErrCorrupt)
	}
	item := p.o.Progress.Start(short(desc.Digest), desc.Size)
	resumed, reused, err := p.dl.fetch(ctx, desc, item.Add)
	item.Done(err)
	if err != nil {
		return err
	}
	p.count(desc, reused, resumed)
	return nil
}

func (p *puller) count(desc ocispec.Descriptor, reused bool, resumed int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if reused {
		p.res.Skipped++
		p.res.SkippedBytes += desc.Size
		return
	}
	p.res.Sent++
	p.res.SentBytes += desc.Size
	p.res.Resumed += resumed
}

// legacySignature looks for cosign's legacy signature of desc, a
// manifest the pull fetched: the sha256-<hex>.sig tag beside it, where
// cosign v2 (and cosign's --registry-referrers-mode=legacy) keep
// signatures. When the registry has one, it is fetched with the graph
// and merged under that tag (IndexEdit.MergeLegacySignatures) once every
// blob is stored; a manifest there that is not a simple-signing
// signature is refused then. "Not found" means there is none; any other
// answer to the lookup (a registry that refuses odd tag names, a proxy
// that answers 403) is told through Options.Notify and the pull goes on
// without it: the lookup is optional, the graph is not.
func (p *puller) legacySignature(ctx context.Context, desc ocispec.Descriptor) (ocispec.Descriptor, bool, error) {
	if !layout.IsManifest(desc.MediaType) {
		return ocispec.Descriptor{}, false, nil
	}
	d, ok, err := legacySignatureOf(ctx, p.src, desc.Digest)
	if err != nil {
		if ctx.Err() != nil {
			return ocispec.Descriptor{}, false, ctx.Err()
		}
		if p.o.Notify != nil {
			p.o.Notify(fmt.Sprintf("could not look for cosign's signature of %s (%v); pulled without it", desc.Digest, err))
		}
		return ocispec.Descriptor{}, false, nil
	}
	if !ok || !p.seen.Add(d.Digest) {
		return ocispec.Descriptor{}, false, nil
	}
	p.mu.Lock()
	p.res.LegacySignatures = append(p.res.LegacySignatures, d)
	p.mu.Unlock()
	return d, true, nil
}
