package modelcar

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layer is one file layer of the form, already stored: an uncompressed
// FileTar whose descriptor carries the title and layout.AnnotationTarOf.
type Layer struct {
	Descriptor ocispec.Descriptor
	// Name is the file's path in the tar (FileTar.Name), for history.
	Name string
}

// Spec is the image Build writes.
type Spec struct {
	// Layers are the file layers, in order (one per file).
	Layers []Layer
	// Platforms of the index, in order; none: DefaultPlatforms.
	Platforms []ocispec.Platform
	// Base, if not nil, is the image the files are stacked on.
	Base *Base
	// Created, if set, is recorded in each config and history entry and as
	// org.opencontainers.image.created on the index and manifests.
	Created *time.Time
	// Annotations go on the index and on every manifest.
	Annotations map[string]string
	// Subject, if set, is the index's subject: the ModelPack manifest whose
	// twin this image is (so it is a referrer of it).
	Subject *ocispec.Descriptor
	// Put stores a document; nil: the layout's document door
	// (Layout.PutDocument). Callers that count blobs pass their own, which
	// must call PutDocument in the end.
	Put func(ctx context.Context, mediaType string, b []byte) (ocispec.Descriptor, error)
}

// Image is what Build wrote.
type Image struct {
	Index ocispec.Descriptor
	// Manifests are the index's members, one per platform, Platform set.
	Manifests []ocispec.Descriptor
}

// Build writes one config and one manifest per platform and the index over
// them, each through the layout's document door, and returns the index's
// descriptor. It tags nothing. The layers (and, with a Base, the base
// image, which Build copies into l if it lives elsewhere) must be stored.
func Build(ctx context.Context, l *layout.Layout, s Spec) (*Image, error) {
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("%w: an image-volume form needs at least one file", layout.ErrInvalidArgument)
	}
	put := s.Put
	if put == nil {
		put = l.PutDocument
	}
	platforms := s.Platforms
	if len(platforms) == 0 {
		platforms = DefaultPlatforms
	}
	var bases map[string]*baseImage
	if s.Base != nil {
		var err error
		if bases, err = s.Base.resolve(ctx, l, platforms); err != nil {
			return nil, err
		}
	}
	ann := s.Annotations
	if s.Created != nil {
		ann = maps.Clone(ann)
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ocispec.AnnotationCreated] = s.Created.UTC().Format(time.RFC3339)
	}
	img := &Image{}
	for _, p := range platforms {
		config, layers, err := buildConfig(s, p, bases[PlatformString(p)])
		if err != nil {
			return nil, err
		}
		cdesc, err := put(ctx, ocispec.MediaTypeImageConfig, config)
		if err != nil {
			return nil, fmt.Errorf("config for %s: %w", PlatformString(p), err)
		}
		m := ocispec.Manifest{
			MediaType:   ocispec.MediaTypeImageManifest,
			Config:      ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cdesc.Digest, Size: cdesc.Size},
			Layers:      layers,
			Annotations: ann,
		}
		m.SchemaVersion = 2
		mdesc, err := putJSON(ctx, put, ocispec.MediaTypeImageManifest, m)
		if err != nil {
			return nil, fmt.Errorf("manifest for %s: %w", PlatformString(p), err)
		}
		img.Manifests = append(img.Manifests, ocispec.Descriptor{MediaType: mdesc.MediaType, Digest: mdesc.Digest, Size: mdesc.Size, Platform: &p})
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: img.Manifests, Subject: s.Subject, Annotations: ann}
	idx.SchemaVersion = 2
	var err error
	if img.Index, err = putJSON(ctx, put, ocispec.MediaTypeImageIndex, idx); err != nil {
		return nil, fmt.Errorf("image index: %w", err)
	}
	return img, nil
}

// buildConfig returns the config of platform p and the manifest's layers:
// the base's (if any) then the files'.
func buildConfig(s Spec, p ocispec.Platform, base *baseImage) ([]byte, []ocispec.Descriptor, error) {
	var diffIDs []digest.Digest
	var history []ocispec.History
	var layers []ocispec.Descriptor
	for _, lay := range s.Layers {
		d := lay.Descriptor
		if d.MediaType != ocispec.MediaTypeImageLayer {
			return nil, nil, fmt.Errorf("%w: layer %s of %s is %s; the image-volume form has uncompressed tar layers (%s)", layout.ErrInvalidArgument, d.Digest, lay.Name, d.MediaType, ocispec.MediaTypeImageLayer)
		}
		layers = append(layers, d)
		diffIDs = append(diffIDs, d.Digest) // uncompressed: the diff_id is the digest
		history = append(history, ocispec.History{Created: s.Created, CreatedBy: "oci-pack: file " + lay.Name})
	}
	if base != nil {
		b, err := base.config(diffIDs, history)
		if err != nil {
			return nil, nil, err
		}
		return b, append(append([]ocispec.Descriptor(nil), base.layers...), layers...), nil
	}
	img := ocispec.Image{
		Created:  s.Created,
		Platform: p,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
		History:  history,
	}
	b, err := json.Marshal(img)
	if err != nil {
		return nil, nil, fmt.Errorf("encode image config: %w", err)
	}
	return b, layers, nil
}

func putJSON(ctx context.Context, put func(context.Context, string, []byte) (ocispec.Descriptor, error), mediaType string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	return put(ctx, mediaType, b)
}
