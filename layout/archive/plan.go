package archive

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Blob classes, in archive order: documents first so a reader meets the
// graph before the bulk, configs next, layers last.
const (
	classDocument = iota
	classConfig
	classLayer
)

// planned is one blob an export will write.
type planned struct {
	desc  ocispec.Descriptor
	class int
	where string // "layer 1 of v1", for messages
	mark  bool   // the first blob after the documents (gate.go)
}

// exportPlan is everything an export writes, worked out before the first
// byte so that every missing or wrong blob is reported at once and a
// failed plan leaves no output behind.
type exportPlan struct {
	index         ocispec.Index // the archive's index.json
	blobs         []planned     // in archive order
	excluded      int
	excludedBytes int64
	missing       []digest.Digest // left out under AllowMissing
	twins         *exportTwins    // tar layers carried as recipes (twinexport.go)
}

// plan walks the graphs to export. With no refs it exports index.json's
// entries and annotations as they are; with refs, each ref (tagged if it
// was given as a tag) and, untagged, every referrer found below them.
func plan(ctx context.Context, l *layout.Layout, o ExportOptions) (*exportPlan, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	p := &exportPlan{index: ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}}
	p.index.SchemaVersion = 2
	var roots []layout.Node
	if len(o.Refs) == 0 {
		p.index.Manifests = append(p.index.Manifests, idx.Manifests...)
		p.index.Annotations = idx.Annotations
		roots = layout.RootsOf(idx)
	}
	for _, r := range o.Refs {
		d, err := l.Resolve(ctx, r)
		if err != nil {
			return nil, err
		}
		p.index.Manifests = appendEntry(p.index.Manifests, d)
		roots = append(roots, layout.Node{Descriptor: d, Role: r.Name()})
	}
	var bad problems
	signed := false
	docs := map[digest.Digest]bool{}
	wo := layout.WalkOptions{Referrers: len(o.Refs) > 0, Seen: layout.NewVisitSet()}
	visit := func(n *layout.Node) error {
		d := n.Descriptor
		if n.Doc != nil {
			docs[d.Digest] = true
		}
		if n.Role == "referrer" {
			p.index.Manifests = appendEntry(p.index.Manifests, ocispec.Descriptor{
				MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, ArtifactType: d.ArtifactType,
			})
		}
		if n.Doc != nil && layout.IsSignature(n.Doc) {
			signed = true
		}
		if n.Doc != nil { // read and verified by Walk
			if err := n.CheckSchema(); err != nil { // import would refuse the archive
				bad = append(bad, fmt.Errorf("%s %s: %v: %w", n.Path(), d.Digest, err, layout.ErrCorrupt))
				return nil
			}
			p.blobs = append(p.blobs, planned{desc: d, class: classDocument, where: n.Path()})
			return nil
		}
		if o.Exclude[d.Digest] {
			p.excluded++
			p.excludedBytes += d.Size
			return nil
		}
		info, err := l.Blobs().Stat(ctx, d.Digest)
		switch {
		case errors.Is(err, cas.ErrNotFound) && o.AllowMissing:
			p.missing = append(p.missing, d.Digest)
			return nil
		case errors.Is(err, cas.ErrNotFound):
			bad = append(bad, fmt.Errorf("missing blob %s (%s): %w", d.Digest, n.Path(), layout.ErrMissingBlob))
			return nil
		case err != nil:
			bad = append(bad, fmt.Errorf("%s (%s): %w", d.Digest, n.Path(), err))
			return nil
		case info.Size != d.Size:
			bad = append(bad, fmt.Errorf("%s %s: size %d in manifest, blob is %d: %w", n.Path(), d.Digest, d.Size, info.Size, cas.ErrSizeMismatch))
			return nil
		}
		class := classLayer
		switch {
		case signatureBlob(n):
			class = classDocument
		case n.Role == "config":
			class = classConfig
		}
		p.blobs = append(p.blobs, planned{desc: d, class: class, where: n.Path()})
		return nil
	}
	if err := l.Walk(ctx, roots, wo, visit); err != nil {
		return nil, err
	}
	if len(o.Refs) > 0 {
		// cosign's legacy signatures of what is exported travel with it,
		// under their sha256-<hex>.sig tags.
		sigs, err := l.LegacySignaturesOf(ctx, func(d digest.Digest) bool { return docs[d] })
		if err != nil {
			return nil, err
		}
		sigRoots := make([]layout.Node, 0, len(sigs))
		for _, e := range sigs {
			p.index.Manifests = appendEntry(p.index.Manifests, e)
			sigRoots = append(sigRoots, layout.Node{Descriptor: e, Role: e.Annotations[ocispec.AnnotationRefName]})
		}
		if err := l.Walk(ctx, sigRoots, wo, visit); err != nil {
			return nil, err
		}
	}
	if err := bad.err(); err != nil {
		return nil, fmt.Errorf("cannot export %s: %w", l.Dir(), err)
	}
	if len(o.Refs) > 0 {
		p.addReferrersIndexes(idx, docs)
	}
	// oci-layout, index.json, blobs/ and one directory per algorithm.
	if n := len(p.blobs) + 4; n > MaxEntries {
		return nil, fmt.Errorf("export of %s would hold %d entries, more than the %d an import accepts: %w", l.Dir(), n, MaxEntries, ErrTooLarge)
	}
	sort.Slice(p.blobs, func(i, j int) bool {
		a, b := p.blobs[i], p.blobs[j]
		if a.class != b.class {
			return a.class < b.class
		}
		return a.desc.Digest < b.desc.Digest
	})
	if err := p.planTwins(ctx, l, o); err != nil {
		return nil, err
	}
	p.markDocumentsDone(signed)
	if p.excluded > 0 {
		ann := maps.Clone(p.index.Annotations)
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationDelta] = strconv.Itoa(p.excluded)
		p.index.Annotations = ann
	}
	idxBytes := mustMarshal(p.index)
	if _, err := layout.ParseIndex(idxBytes); err != nil {
		return nil, fmt.Errorf("export index.json: %w", err)
	}
	if len(idxBytes) > strictjson.MaxDocument { // the budget import reads it with (I14)
		return nil, fmt.Errorf("%w: the archive's index.json would be %d bytes, over the %d every import reads: export fewer refs", layout.ErrInvalidArgument, len(idxBytes), strictjson.MaxDocument)
	}
	return p, nil
}

// AnnotationDelta, on an archive's index.json, marks a delta export: the
// number of blobs left out because the receiving site's receipt listed
// them. Import names it when the layout lacks what the delta builds on.
const AnnotationDelta = "io.github.oci-pack.delta.excluded"

// addReferrersIndexes carries the referrers-tag (sha256-<hex>) index of
// every exported subject, so tools that look for referrers only there
// (regctl) find them at the far site too. Their members are referrers the
// walk already exported.
func (p *exportPlan) addReferrersIndexes(idx *ocispec.Index, docs map[digest.Digest]bool) {
	for _, e := range idx.Manifests {
		name := e.Annotations[ocispec.AnnotationRefName]
		if !layout.IsReferrersTag(name) || !layout.IsIndex(e.MediaType) {
			continue
		}
		if subject, _ := layout.TagSubject(name); !docs[subject] {
			continue
		}
		p.index.Manifests = appendEntry(p.index.Manifests, e)
		if !docs[e.Digest] {
			docs[e.Digest] = true
			p.blobs = append(p.blobs, planned{desc: e, class: classDocument, where: "referrers index " + name})
		}
	}
}

// appendEntry adds d to an index's manifests unless it is already there:
// a tagged d under the same tag, an untagged d under any.
func appendEntry(list []ocispec.Descriptor, d ocispec.Descriptor) []ocispec.Descriptor {
	tag := d.Annotations[ocispec.AnnotationRefName]
	for _, e := range list {
		if e.Digest == d.Digest && (tag == "" || e.Annotations[ocispec.AnnotationRefName] == tag) {
			return list
		}
	}
	return append(list, d)
}
