package pack

import (
	"context"
	"fmt"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageVolume asks Pack for the image-volume form of the files (package
// pack/modelcar): an image index, one manifest per platform, one
// uncompressed tar layer per file under MountDir, which containerd mounts
// as a Kubernetes image volume. Each file is read once for both forms.
type ImageVolume struct {
	// MountDir is the image's directory for the files ("" : models).
	MountDir string
	// Platforms of the index (none: linux/amd64 and linux/arm64).
	Platforms []ocispec.Platform
	// Base, if set, is an image the files are stacked on.
	Base *modelcar.Base
	// Tag names the image when Pack also writes an artifact of the files
	// (the modelpack preset): "" is Options.Tag + "-image". With the
	// modelcar preset the image is the artifact, tagged Options.Tag.
	Tag string
}

// ImageResult describes the image-volume form Pack wrote.
type ImageResult struct {
	Index     ocispec.Descriptor
	Manifests []ocispec.Descriptor // one per platform, Platform set
	Layers    []Layer              // the file layers
	Tag       string
	TagChange layout.TagChange
}

// ImageTagSuffix is what the image's tag adds to the artifact's by default.
const ImageTagSuffix = "-image"

func init() {
	presets["modelcar"] = &Preset{
		Name:        "modelcar",
		expand:      expandModelDirs,
		imageVolume: true,
	}
}

// imageOnly reports whether Pack writes the image-volume form alone.
func imageOnly(pre *Preset) bool { return pre != nil && pre.imageVolume }

// imageVolumeOf returns the image form Pack writes, nil for none.
func imageVolumeOf(o Options) *ImageVolume {
	if o.ImageVolume == nil && imageOnly(o.Preset) {
		return &ImageVolume{}
	}
	return o.ImageVolume
}

// checkImageVolume refuses, before anything is read, what the image form
// cannot carry. Errors wrap layout.ErrInvalidArgument.
func checkImageVolume(o Options, iv *ImageVolume) error {
	if iv == nil {
		return nil
	}
	if _, err := modelcar.CleanMountDir(mountDirOf(iv)); err != nil {
		return err
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: the image-volume form cannot be made with %s", layout.ErrInvalidArgument, what)
	}
	switch {
	case o.Subject != nil:
		return bad("a subject (an attached artifact)")
	case o.Compression == compress.Gzip || o.Compression == compress.Zstd:
		return bad("compressed layers: its layers are uncompressed tars, and the files of the artifact beside it must be raw")
	case imageOnly(o.Preset) && o.ConfigPath != "":
		return bad("a config file: each platform's image config is generated")
	case imageOnly(o.Preset) && o.Icon != "":
		return bad("an icon layer")
	case imageOnly(o.Preset) && o.ArtifactType != "":
		return bad("an artifact type: it is a container image")
	}
	if t := imageTag(o); t != "" && !imageOnly(o.Preset) {
		return layout.CheckUserTag(t)
	}
	return nil
}

func mountDirOf(iv *ImageVolume) string {
	if iv.MountDir == "" {
		return modelcar.DefaultMountDir
	}
	return iv.MountDir
}

// ErrImageVolumeFiles: the image-volume form holds files, one layer each,
// and an input would become a tar layer (a directory without a preset
// that walks it, or a compressed file). It wraps layout.ErrInvalidArgument.
var ErrImageVolumeFiles = fmt.Errorf("%w: the image-volume form needs files", layout.ErrInvalidArgument)

// planTwins gives every file plan its FileTar. A plan that is not a file
// stored raw (a directory, a compressed file) cannot have one: refused.
func planTwins(plans []*layerPlan, o Options, iv *ImageVolume) error {
	for _, p := range plans {
		if p.tarred || p.isDir {
			return fmt.Errorf("%w: %s becomes a tar layer, not a file (the modelpack and modelcar presets walk a directory into files; compression must stay auto)", ErrImageVolumeFiles, p.path)
		}
		ft, err := modelcar.NewFileTar(mountDirOf(iv), p.title, p.info.Size(), p.info.Mode(), o.MTime)
		if err != nil {
			return err
		}
		p.twin = ft
		p.rawStored = !imageOnly(o.Preset)
	}
	return nil
}

// twinDescriptor is the file layer's descriptor: title and tar-of, plus
// the caller's annotations for the title.
func twinDescriptor(p *layerPlan, twin Layer, raw Layer, ann map[string]map[string]string) ocispec.Descriptor {
	d := twin.Descriptor
	d.MediaType = ocispec.MediaTypeImageLayer
	d.Annotations = mergeAnnotations(map[string]string{
		ocispec.AnnotationTitle: p.title,
		layout.AnnotationTarOf:  raw.Descriptor.Digest.String(),
	}, ann[p.title])
	return d
}

// buildImage writes the image form over the file layers in res.Image and
// returns it; subject is the artifact it is the twin of (nil for none).
func buildImage(ctx context.Context, l *layout.Layout, plans []*layerPlan, o Options, iv *ImageVolume, subject *ocispec.Descriptor, res *Result) error {
	spec := modelcar.Spec{
		Platforms:   iv.Platforms,
		Base:        iv.Base,
		Created:     o.Created,
		Annotations: mergeAnnotations(o.FileAnnotations["$manifest"], o.Annotations),
		Subject:     subject,
		Put: func(ctx context.Context, mediaType string, b []byte) (ocispec.Descriptor, error) {
			return putDocument(ctx, l, mediaType, b, res)
		},
	}
	for i, lay := range res.Image.Layers {
		spec.Layers = append(spec.Layers, modelcar.Layer{Descriptor: lay.Descriptor, Name: plans[i].twin.Name})
	}
	img, err := modelcar.Build(ctx, l, spec)
	if err != nil {
		return err
	}
	res.Image.Index, res.Image.Manifests = img.Index, img.Manifests
	return nil
}

// finishTwins gives the file layers their descriptors and drops the slots
// of plans without one (an icon).
func finishTwins(plans []*layerPlan, res *Result, ann map[string]map[string]string) {
	var out []Layer
	for i, p := range plans {
		if p.twin == nil {
			continue
		}
		lay := res.Image.Layers[i]
		lay.Descriptor = twinDescriptor(p, lay, res.Layers[i], ann)
		out = append(out, lay)
	}
	res.Image.Layers = out
}

// imageTag is the tag of the image form written beside an artifact: the
// one asked for, else the artifact's tag + ImageTagSuffix ("" when the
// artifact is untagged).
func imageTag(o Options) string {
	if o.ImageVolume != nil && o.ImageVolume.Tag != "" {
		return o.ImageVolume.Tag
	}
	if o.Tag == "" {
		return ""
	}
	return o.Tag + ImageTagSuffix
}

// tagTwin records the image form written beside an artifact: as a
// referrer of it (its subject), so export, copy and gc take it along,
// and under its tag.
// (The tag goes first: a tagged entry keeps AddReferrers from listing the
// index a second time, untagged.)
func tagTwin(e *layout.IndexEdit, o Options, img *ImageResult) error {
	if img.Tag = imageTag(o); img.Tag != "" {
		var err error
		if img.TagChange, err = e.Tag(img.Tag, img.Index, o.TagConflict); err != nil {
			return err
		}
	}
	return e.AddReferrers(img.Index)
}
