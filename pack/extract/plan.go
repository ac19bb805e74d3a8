package extract

import (
	"context"
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// manifestPlan is one manifest to extract.
type manifestPlan struct {
	prefix string // subdirectory of Dir for an index member; "" for Dir
	desc   ocispec.Descriptor
	image  bool // unpacked as a root filesystem (see isImage)
	layers []*layerPlan
}

type layerKind int

const (
	layerSkip    layerKind = iota
	layerRaw               // the blob is the file
	layerTar               // the blob is a (compressed) tar to unpack
	layerFileTar           // an image-volume layer: a tar of one file, written as that file
)

// layerPlan is everything decided about a layer before any is written.
type layerPlan struct {
	m      *manifestPlan
	who    string // "layer 2" or `member "x" layer 2`, for messages
	desc   ocispec.Descriptor
	kind   layerKind
	title  string // cleaned; "" for image layers
	alg    compress.Algorithm
	diffID digest.Digest // digest of the uncompressed tar, "" if unknown
	// fileDigest is the digest of a layerFileTar's file (its tar-of).
	fileDigest digest.Digest
}

// Media types of container images and of tar layers.
const (
	mediaTypeDockerConfig  = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer   = "application/vnd.docker.image.rootfs.diff.tar"
	mediaTypeNonDistLayer  = "application/vnd.oci.image.layer.nondistributable.v1.tar"
	mediaTypeModelPackBase = "application/vnd.cncf.model."
)

// plan reads desc (a manifest or an index) and plans its extraction into
// prefix. Index members go into subdirectories named by their title or
// ref.name annotation, else by their digest's hex.
func (x *extraction) plan(ctx context.Context, desc ocispec.Descriptor, prefix string, depth int) error {
	if depth > layout.MaxDepth {
		return fmt.Errorf("%s: indexes nested deeper than %d: %w", desc.Digest, layout.MaxDepth, layout.ErrCorrupt)
	}
	doc, err := x.l.ReadDocument(ctx, desc)
	if err != nil {
		return err
	}
	if v, err := modelcar.Read(ctx, x.l, desc); err != nil {
		return err
	} else if v != nil {
		return x.planVolume(desc, prefix, v)
	}
	if doc.IsIndex() {
		return x.planIndex(ctx, doc, prefix, depth)
	}
	mp := &manifestPlan{prefix: prefix, desc: desc}
	x.manifests = append(x.manifests, mp)
	if isImage(doc) {
		return x.planImage(ctx, mp, doc)
	}
	for i, ld := range doc.Layers {
		lp := &layerPlan{m: mp, who: fmt.Sprintf("layer %d", i), desc: ld}
		if prefix != "" {
			lp.who = fmt.Sprintf("member %q layer %d", prefix, i)
		}
		if err := x.classify(ctx, lp); err != nil {
			return err
		}
		mp.layers = append(mp.layers, lp)
	}
	return nil
}

func (x *extraction) planIndex(ctx context.Context, doc *layout.Document, prefix string, depth int) error {
	names := map[string]int{}
	for i, m := range doc.Manifests {
		if !layout.IsDocument(m) {
			x.o.Info(fmt.Sprintf("index member %d (%s, %s): not a manifest or index, skipped", i, m.MediaType, m.Digest))
			continue
		}
		raw := m.Annotations[annotationTitle]
		if raw == "" {
			raw = m.Annotations[ocispec.AnnotationRefName]
		}
		if raw == "" {
			raw = m.Digest.Encoded()
		}
		name, err := cleanName(raw)
		if err != nil {
			return fmt.Errorf("index member %d name %q %v: %w", i, raw, err, ErrUnsafe)
		}
		if j, dup := names[name]; dup {
			return fmt.Errorf("index members %d and %d are both named %q: %w", j, i, name, ErrUnsafe)
		}
		names[name] = i
		if err := x.plan(ctx, m, join(prefix, name), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// isImage decides that a manifest is a container image, to be unpacked as
// one root filesystem with whiteouts (by umoci's layer unpacker), rather
// than an artifact whose layers are files: its config has the OCI (or
// Docker) image config media type, it has at least one layer, every layer
// has an image layer media type (tar, optionally +gzip/+zstd), and no
// layer carries a title or filepath annotation — a titled layer means an
// oras-style artifact whose files belong under their names.
func isImage(doc *layout.Document) bool {
	if doc.Config == nil || (doc.Config.MediaType != ocispec.MediaTypeImageConfig && doc.Config.MediaType != mediaTypeDockerConfig) {
		return false
	}
	if len(doc.Layers) == 0 {
		return false
	}
	for _, ld := range doc.Layers {
		base, _ := compress.FromMediaType(ld.MediaType)
		switch base {
		case ocispec.MediaTypeImageLayer, mediaTypeNonDistLayer, mediaTypeDockerLayer:
		default:
			return false
		}
		if ld.Annotations[annotationTitle] != "" || ld.Annotations[annotationModelFilepath] != "" {
			return false
		}
	}
	return true
}

// planImage reads the image config for the layers' diffIDs.
func (x *extraction) planImage(ctx context.Context, mp *manifestPlan, doc *layout.Document) error {
	mp.image = true
	b, err := x.l.ReadBlobJSON(ctx, *doc.Config)
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	var img ocispec.Image
	if err := strictjson.Unmarshal(b, &img); err != nil {
		return fmt.Errorf("image config %s: %v: %w", doc.Config.Digest, err, layout.ErrCorrupt)
	}
	if len(img.RootFS.DiffIDs) != len(doc.Layers) {
		return fmt.Errorf("image config %s lists %d diff_ids for %d layers: %w", doc.Config.Digest, len(img.RootFS.DiffIDs), len(doc.Layers), layout.ErrCorrupt)
	}
	for i, ld := range doc.Layers {
		if err := cas.Validate(img.RootFS.DiffIDs[i]); err != nil {
			return fmt.Errorf("image config %s diff_ids[%d]: %w", doc.Config.Digest, i, err)
		}
		_, alg := compress.FromMediaType(ld.MediaType)
		mp.layers = append(mp.layers, &layerPlan{
			m: mp, who: fmt.Sprintf("image layer %d", i), desc: ld,
			kind: layerTar, alg: alg, diffID: img.RootFS.DiffIDs[i],
		})
	}
	return nil
}

// classify decides what an artifact layer is, the way oras pull does:
//   - no title (nor ModelPack filepath) annotation: skipped, with an info line;
//   - io.deis.oras.content.unpack "true": a tar to unpack;
//   - a tar media type ("….tar", optionally +gzip/+zstd) whose first entry
//     is the title or lies below it: a tar to unpack (oci-pack's own zstd
//     and uncompressed directory layers carry no unpack annotation);
//   - anything else, including a tar media type whose content is not such
//     a tar (oras pushes plain files as "…layer.v1.tar"): a raw file.
//
// Titles are checked here, before anything is written.
func (x *extraction) classify(ctx context.Context, lp *layerPlan) error {
	ann := lp.desc.Annotations
	raw, ok := ann[annotationTitle]
	if !ok && strings.HasPrefix(lp.desc.MediaType, mediaTypeModelPackBase) {
		raw, ok = ann[annotationModelFilepath]
	}
	if !ok {
		x.o.Info(fmt.Sprintf("%s (%s, %d bytes): no title annotation, skipped", lp.who, lp.desc.MediaType, lp.desc.Size))
		return nil
	}
	title, err := cleanName(raw)
	if err != nil {
		return fmt.Errorf("%s title %q %v: %w", lp.who, raw, err, ErrUnsafe)
	}
	lp.title = title
	base, alg := compress.FromMediaType(lp.desc.MediaType)
	switch {
	case ann[annotationUnpack] == "true":
		lp.kind = layerTar
		_, alg, _ = x.sniffTar(ctx, lp.desc, alg)
	case strings.HasSuffix(base, ".tar"):
		lp.kind = layerRaw
		if first, salg, ok := x.sniffTar(ctx, lp.desc, alg); ok && under(first, title) {
			lp.kind, alg = layerTar, salg
		}
	default:
		lp.kind = layerRaw
	}
	if lp.kind == layerRaw {
		lp.alg = compress.None // the blob is the file, whatever its suffix says
		if !x.match.match(title) {
			lp.kind = layerSkip
		}
		return nil
	}
	lp.alg = alg
	if d := ann[annotationDiffID]; d != "" {
		if lp.diffID, err = cas.ParseDigest(d); err != nil {
			return fmt.Errorf("%s annotation %s: %w", lp.who, annotationDiffID, err)
		}
	}
	if !x.match.mayMatchUnder(title) {
		lp.kind = layerSkip
	}
	return nil
}
