package modelcar

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// File is one file of the form: its layer, its title, and the digest of
// its bytes (the raw layer it mirrors).
type File struct {
	Layer  ocispec.Descriptor `json:"layer"`
	Title  string             `json:"title"`
	Digest digest.Digest      `json:"digest"`
}

// View is the image-volume form as Read finds it.
type View struct {
	// Manifests are the platform manifests (one, when Read was given a
	// manifest); Platforms the index's platform of each (zero if none).
	Manifests []ocispec.Descriptor
	Platforms []ocispec.Platform
	// Base are the layers below the files (a base image's), if any.
	Base []ocispec.Descriptor
	// Files are the file layers, in order.
	Files []File
	// Subject is the index's subject (the ModelPack twin), if any.
	Subject *ocispec.Descriptor
}

// Read reports whether desc, an index or a manifest in l, is the
// image-volume form, and describes it; (nil, nil) when it is not. The
// form: image manifests (every member of the index) whose config is an
// image config, whose layers end in at least one uncompressed tar layer
// carrying layout.AnnotationTarOf and a title — file layers, after any
// base layers — and whose layer lists are identical. A tar-of annotation
// that is not a valid digest is an error wrapping layout.ErrCorrupt.
func Read(ctx context.Context, l *layout.Layout, desc ocispec.Descriptor) (*View, error) {
	doc, err := l.ReadDocument(ctx, desc)
	if err != nil {
		return nil, err
	}
	v := &View{Subject: doc.Subject}
	members := []ocispec.Descriptor{desc}
	if doc.IsIndex() {
		members = doc.Manifests
	}
	if len(members) == 0 {
		return nil, nil
	}
	var layers []ocispec.Descriptor
	for i, m := range members {
		if !layout.IsManifest(m.MediaType) {
			return nil, nil
		}
		md := doc
		if doc.IsIndex() {
			if md, err = l.ReadDocument(ctx, m); err != nil {
				return nil, err
			}
		}
		if md.IsIndex() || md.Config == nil || md.Config.MediaType != ocispec.MediaTypeImageConfig {
			return nil, nil
		}
		if i == 0 {
			layers = md.Layers
		} else if !sameDigests(layers, md.Layers) {
			return nil, nil
		}
		v.Manifests = append(v.Manifests, m)
		var p ocispec.Platform
		if doc.IsIndex() && m.Platform != nil {
			p = *m.Platform
		}
		v.Platforms = append(v.Platforms, p)
	}
	for i, ld := range layers {
		d, ok := ld.Annotations[layout.AnnotationTarOf]
		if !ok {
			if len(v.Files) > 0 {
				return nil, nil // a base layer above the files: not the form
			}
			v.Base = append(v.Base, ld)
			continue
		}
		fd, err := cas.ParseDigest(d)
		if err != nil {
			return nil, fmt.Errorf("layer %d %s: annotation %s: %v: %w", i, ld.Digest, layout.AnnotationTarOf, err, layout.ErrCorrupt)
		}
		title := ld.Annotations[ocispec.AnnotationTitle]
		if ld.MediaType != ocispec.MediaTypeImageLayer || title == "" {
			return nil, nil
		}
		v.Files = append(v.Files, File{Layer: ld, Title: title, Digest: fd})
	}
	if len(v.Files) == 0 {
		return nil, nil
	}
	return v, nil
}

func sameDigests(a, b []ocispec.Descriptor) bool {
	return slices.EqualFunc(a, b, func(x, y ocispec.Descriptor) bool { return x.Digest == y.Digest && x.Size == y.Size })
}

// Mirror is a file layer with the raw layer it mirrors.
type Mirror struct {
	File
	// RawStored: the layout holds the raw blob (Digest).
	RawStored bool `json:"rawStored"`
	// SubjectLayer is the index of the raw layer among the subject
	// manifest's layers (the ModelPack twin), -1 when it is not there.
	SubjectLayer int `json:"subjectLayer"`
}

// Mirrors says, for each file layer, whether the layout holds its raw twin
// and where the subject (the ModelPack manifest beside the image) lists it.
func (v *View) Mirrors(ctx context.Context, l *layout.Layout) ([]Mirror, error) {
	inSubject := map[digest.Digest]int{}
	if v.Subject != nil && layout.IsManifest(v.Subject.MediaType) {
		if doc, err := l.ReadDocument(ctx, *v.Subject); err == nil {
			for i, ld := range doc.Layers {
				if _, dup := inSubject[ld.Digest]; !dup {
					inSubject[ld.Digest] = i
				}
			}
		}
	}
	out := make([]Mirror, 0, len(v.Files))
	for _, f := range v.Files {
		m := Mirror{File: f, SubjectLayer: -1}
		if i, ok := inSubject[f.Digest]; ok {
			m.SubjectLayer = i
		}
		_, err := l.Blobs().Stat(ctx, f.Digest)
		switch {
		case err == nil:
			m.RawStored = true
		case !errors.Is(err, cas.ErrNotFound) && !errors.Is(err, cas.ErrNotRegular):
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
