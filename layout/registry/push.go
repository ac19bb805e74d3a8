package registry

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Push copies root's graph from l to dst: every blob not already there
// (mounted from Options.MountFrom when the registry can, else uploaded in
// resumable chunks), then the manifests and indexes, children before
// parents and subjects before their referrers, so the registry never
// holds a manifest whose blobs are missing. With Options.Referrers the
// artifacts that refer to anything in the graph go too, and oras-go keeps
// the registry's referrers index (the API, or the sha256-<hex> tag on a
// registry without it). tag, if not "", names root in dst at the end.
//
// Every manifest is checked against the image-spec schema before anything
// is sent (a registry's readers would refuse it), and every blob is hashed
// as it is sent: a corrupt blob in the layout is never completed.
//
// With Options.Referrers, cosign's legacy signatures of the graph's
// manifests (the sha256-<hex>.sig tags, Result.LegacySignatures) go too,
// under their tags, after what they sign: cosign v2 finds a signature
// there, and a push of one tag must not leave it behind.
func Push(ctx context.Context, l *layout.Layout, root ocispec.Descriptor, dst *Remote, tag string, o Options) (*Result, error) {
	g, err := planGraph(ctx, l, root, o.Referrers)
	if err != nil {
		return nil, err
	}
	res := &Result{Root: root, Referrers: g.referrers, LegacySignatures: g.legacy}
	p := &pusher{l: l, dst: dst, o: o, res: res, up: &uploader{l: l, dst: dst, chunk: o.chunk(), resume: !o.NoResume, notify: o.Notify}}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(o.jobs())
	for _, b := range g.blobs {
		eg.Go(func() error { return p.blob(ectx, b) })
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	for _, level := range g.levels() {
		eg, ectx := errgroup.WithContext(ctx)
		eg.SetLimit(o.jobs())
		for _, d := range level {
			n := g.docs[d]
			as := n.tag
			if d == root.Digest {
				as = tag
			}
			eg.Go(func() error { return p.document(ectx, n, as) })
		}
		if err := eg.Wait(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type pusher struct {
	l   *layout.Layout
	dst *Remote
	o   Options
	up  *uploader
	mu  sync.Mutex
	res *Result
}

// blob sends one blob unless the registry has it.
func (p *pusher) blob(ctx context.Context, desc ocispec.Descriptor) error {
	ok, err := p.dst.Repo.Blobs().Exists(ctx, desc)
	if err != nil {
		return fmt.Errorf("%s: %w", p.dst.Ref.Registry, classify(err))
	}
	if ok {
		p.count(desc, "skipped", 0)
		return nil
	}
	f, err := p.l.Blobs().Open(ctx, desc.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	item := p.o.Progress.Start(short(desc.Digest), desc.Size)
	var s *session
	if !p.up.resume || loadUpload(p.l, p.dst, desc.Digest, desc.Size) == nil {
		for _, from := range p.o.MountFrom {
			ref := Reference{Registry: p.dst.Ref.Registry, Repository: from}
			if s, err = p.up.start(ctx, desc, &ref); err != nil {
				item.Done(err)
				return fmt.Errorf("mount %s from %s: %w", desc.Digest, from, err)
			}
			if s == nil {
				item.Add(desc.Size)
				item.Done(nil)
				p.count(desc, "mounted", 0)
				return nil
			}
			break // the registry opened an upload session instead: use it
		}
	}
	resumed, err := p.up.upload(ctx, f, desc, s, item.Add)
	item.Done(err)
	if err != nil {
		return fmt.Errorf("push %s: %w", desc.Digest, err)
	}
	p.count(desc, "sent", resumed)
	return nil
}

// document pushes one manifest or index, by tag when tag is not "",
// else by digest.
func (p *pusher) document(ctx context.Context, n *planNode, tag string) error {
	var err error
	r := bytes.NewReader(n.raw)
	if tag != "" {
		err = p.dst.Repo.PushReference(ctx, n.desc, r, tag)
	} else {
		err = p.dst.Repo.Push(ctx, n.desc, r)
	}
	if err != nil {
		return fmt.Errorf("push %s %s: %w", n.role, n.desc.Digest, classify(err))
	}
	p.count(n.desc, "sent", 0)
	return nil
}

func (p *pusher) count(desc ocispec.Descriptor, how string, resumed int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch how {
	case "skipped":
		p.res.Skipped++
		p.res.SkippedBytes += desc.Size
	case "mounted":
		p.res.Mounted++
		p.res.SkippedBytes += desc.Size
	default:
		p.res.Sent++
		p.res.SentBytes += desc.Size
		p.res.Resumed += resumed
	}
}

// plan is a graph read from the layout, ready to send.
type plan struct {
	blobs     []ocispec.Descriptor
	docs      map[digest.Digest]*planNode
	order     []digest.Digest // documents in walk order
	referrers []ocispec.Descriptor
	legacy    []ocispec.Descriptor // cosign legacy signatures, tagged
}

type planNode struct {
	desc ocispec.Descriptor
	role string
	tag  string // a legacy signature's tag; the root's is Push's
	raw  []byte
	deps []digest.Digest // documents that must be in the registry first
}

// planGraph walks root's graph (and referrers) in l, checking each
// document against the image-spec schema and each blob for presence.
func planGraph(ctx context.Context, l *layout.Layout, root ocispec.Descriptor, referrers bool) (*plan, error) {
	g := &plan{docs: map[digest.Digest]*planNode{}}
	wo := layout.WalkOptions{Referrers: referrers, Seen: layout.NewVisitSet()}
	visit := func(n *layout.Node) error {
		if n.Doc == nil {
			if ok, err := l.Blobs().Has(ctx, n.Descriptor); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%s %s is not stored in %s with size %d: %w", n.Path(), n.Descriptor.Digest, l.Dir(), n.Descriptor.Size, layout.ErrMissingBlob)
			}
			g.blobs = append(g.blobs, n.Descriptor)
			return nil
		}
		if err := n.CheckSchema(); err != nil {
			return fmt.Errorf("%s %s in %s: %v: %w", n.Path(), n.Descriptor.Digest, l.Dir(), err, layout.ErrCorrupt)
		}
		if n.Role == "referrer" {
			g.referrers = append(g.referrers, n.Descriptor)
		}
		pn := &planNode{desc: n.Descriptor, role: n.Role, raw: n.Doc.Raw}
		for _, c := range n.Doc.Children() {
			if layout.IsDocument(c) {
				pn.deps = append(pn.deps, c.Digest)
			}
		}
		if n.Doc.Subject != nil {
			pn.deps = append(pn.deps, n.Doc.Subject.Digest)
		}
		g.docs[n.Descriptor.Digest] = pn
		g.order = append(g.order, n.Descriptor.Digest)
		return nil
	}
	if err := l.Walk(ctx, []layout.Node{{Descriptor: root, Role: "root"}}, wo, visit); err != nil {
		return nil, err
	}
	if !referrers {
		return g, nil
	}
	sigs, err := l.LegacySignaturesOf(ctx, func(d digest.Digest) bool { return g.docs[d] != nil })
	if err != nil {
		return nil, err
	}
	roots := make([]layout.Node, len(sigs))
	for i, d := range sigs {
		roots[i] = layout.Node{Descriptor: d, Role: "legacy signature " + d.Annotations[ocispec.AnnotationRefName]}
	}
	if err := l.Walk(ctx, roots, wo, visit); err != nil {
		return nil, err
	}
	for _, d := range sigs {
		subject, _ := layout.TagSubject(d.Annotations[ocispec.AnnotationRefName])
		if n := g.docs[d.Digest]; n != nil && n.tag == "" {
			n.tag = d.Annotations[ocispec.AnnotationRefName]
			n.deps = append(n.deps, subject) // after what it signs
			g.legacy = append(g.legacy, d)
		}
	}
	return g, nil
}

// levels orders the documents so that each comes after its children and
// its subject (when they are in the graph); the documents of one level
// do not depend on each other.
func (g *plan) levels() [][]digest.Digest {
	level := map[digest.Digest]int{}
	var depth func(d digest.Digest, seen map[digest.Digest]bool) int
	depth = func(d digest.Digest, seen map[digest.Digest]bool) int {
		if v, ok := level[d]; ok {
			return v
		}
		n, ok := g.docs[d]
		if !ok || seen[d] {
			return -1 // not in the graph, or a cycle (Walk bounds those)
		}
		seen[d] = true
		v := 0
		for _, c := range n.deps {
			v = max(v, depth(c, seen)+1)
		}
		delete(seen, d)
		level[d] = v
		return v
	}
	var out [][]digest.Digest
	for _, d := range g.order {
		v := depth(d, map[digest.Digest]bool{})
		for len(out) <= v {
			out = append(out, nil)
		}
		out[v] = append(out[v], d)
	}
	return out
}
