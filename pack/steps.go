package pack

import (
	"context"
	"fmt"
	"time"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Pack is the convenience over three steps a caller can also take one by
// one, in the shape of oras-go's PackManifest: WriteLayer for each file or
// directory, then BuildManifest from the descriptors, then a tag or a
// referrer through the layout's index door.

// ErrArtifactTypeRequired: the artifact has the empty descriptor as its
// config, and image-spec 1.1 then requires an artifactType (usage class;
// it wraps layout.ErrInvalidArgument).
var ErrArtifactTypeRequired = fmt.Errorf("%w: an artifact whose config is the empty descriptor needs an artifactType (image-spec 1.1)", layout.ErrInvalidArgument)

// LayerOptions shape one layer written by WriteLayer.
type LayerOptions struct {
	// Title is the name recorded in org.opencontainers.image.title
	// (default: the path, cleaned, or its base name when not local).
	Title string
	// MediaType overrides the default (application/octet-stream for a
	// raw file, the tar type with the codec's suffix for a directory).
	MediaType string
	// Compression, Level: as in Options (the zero value is auto).
	Compression compress.Algorithm
	Level       int
	// Jobs bounds the compressor's concurrency (default 1).
	Jobs int
	// MTime is the mtime of every tar entry (zero: the Unix epoch).
	MTime time.Time
	// PreserveMode and Exclude: as in Options.
	PreserveMode bool
	Exclude      []string
	Progress     layout.Progress
}

// WriteLayer stores one file or directory at path as a layer of l, exactly
// as Pack stores each of its inputs: a file raw (its digest is the file's
// sha256) unless compression is asked for, a directory as a reproducible
// tar (sorted, uid/gid 0, fixed mtime), compressed by o.Compression. The
// layer is verified as it is committed and is not referenced by anything
// until a manifest lists it.
func WriteLayer(ctx context.Context, l *layout.Layout, path string, o LayerOptions) (Layer, error) {
	po := Options{Compression: o.Compression, Level: o.Level, Jobs: max(o.Jobs, 1), MTime: o.MTime, PreserveMode: o.PreserveMode, Exclude: o.Exclude, Warn: func(string) {}}
	if err := checkMediaTypes([]Input{{Path: path, MediaType: o.MediaType}}, po); err != nil {
		return Layer{}, err
	}
	plans, err := planLayers(ctx, []Input{{Path: path, MediaType: o.MediaType, Title: o.Title}}, po, nil, newLayoutGuard(l.Dir()))
	if err != nil {
		return Layer{}, err
	}
	p := plans[0]
	tr := o.Progress.Start(p.title, p.size)
	lay, err := p.build(ctx, l, nil, compress.Options{Level: p.level, Concurrency: po.Jobs}, tr, nil)
	tr.Done(err)
	if err != nil {
		return Layer{}, err
	}
	lay.Descriptor.Annotations = mergeAnnotations(p.annotations, lay.Descriptor.Annotations)
	return lay, nil
}

// ManifestSpec is an artifact manifest's content, built elsewhere.
type ManifestSpec struct {
	ArtifactType string
	// Config is the config descriptor, already stored; nil: the empty
	// descriptor (then ArtifactType is required).
	Config *ocispec.Descriptor
	// Layers are the layer descriptors, already stored; none: the single
	// empty layer image-spec 1.1 asks for.
	Layers      []ocispec.Descriptor
	Subject     *ocispec.Descriptor
	Annotations map[string]string
}

// BuildManifest writes the manifest of an artifact by image-spec 1.1's
// decision tree — no config: the empty descriptor, and artifactType is
// required; no layers: one empty layer — through the layout's document
// door, and returns its descriptor (with artifactType). It does not tag.
func BuildManifest(ctx context.Context, l *layout.Layout, m ManifestSpec) (ocispec.Descriptor, error) {
	return buildManifest(ctx, l, m, &Result{})
}

// buildManifest is BuildManifest counting the blobs it stores in res.
func buildManifest(ctx context.Context, l *layout.Layout, spec ManifestSpec, res *Result) (ocispec.Descriptor, error) {
	m := ocispec.Manifest{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: spec.ArtifactType,
		Layers:       spec.Layers,
		Subject:      spec.Subject,
		Annotations:  spec.Annotations,
	}
	m.SchemaVersion = 2
	needEmpty := spec.Config == nil || len(spec.Layers) == 0
	if spec.Config == nil {
		m.Config = emptyDescriptor()
	} else {
		m.Config = *spec.Config
	}
	if m.Config.Digest == ocispec.DescriptorEmptyJSON.Digest && m.ArtifactType == "" {
		return ocispec.Descriptor{}, ErrArtifactTypeRequired
	}
	if len(m.Layers) == 0 {
		m.Layers = []ocispec.Descriptor{emptyDescriptor()}
	}
	if needEmpty {
		if _, err := putDocument(ctx, l, ocispec.MediaTypeEmptyJSON, []byte("{}"), res); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	return putManifest(ctx, l, m, res)
}
