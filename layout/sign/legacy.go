package sign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// AnnotationCosignSignature holds a legacy signature (base64) on its
// simple-signing layer.
const AnnotationCosignSignature = "dev.cosignproject.cosign/signature"

// addLegacy writes cosign's legacy signature of subj — a simple-signing
// payload naming subj's digest, signed as is, as one layer of the manifest
// tagged sha256-<hex>.sig — keeping the signatures that manifest already
// holds, and moves the tag in e. It returns the tag and the new manifest.
func addLegacy(ctx context.Context, l *layout.Layout, e *layout.IndexEdit, subj ocispec.Descriptor, s *Signer, identity string) (string, ocispec.Descriptor, error) {
	body := payload.SimpleContainerImage{Critical: payload.Critical{
		Identity: payload.Identity{DockerReference: identity},
		Image:    payload.Image{DockerManifestDigest: subj.Digest.String()},
		Type:     payload.CosignSignatureType,
	}}
	pl, err := json.Marshal(body)
	if err != nil {
		return "", ocispec.Descriptor{}, err
	}
	sig, err := s.sv.SignMessage(bytes.NewReader(pl))
	if err != nil {
		return "", ocispec.Descriptor{}, fmt.Errorf("sign: %w", err)
	}
	layer, err := l.PutDocument(ctx, layout.MediaTypeCosignSimpleSigning, pl)
	if err != nil {
		return "", ocispec.Descriptor{}, err
	}
	layer.Annotations = map[string]string{AnnotationCosignSignature: base64.StdEncoding.EncodeToString(sig)}
	tag := legacyTag(subj.Digest)
	var layers []ocispec.Descriptor
	if old, ok := e.Lookup(tag); ok {
		doc, err := l.ReadDocument(ctx, old)
		if err != nil {
			return "", ocispec.Descriptor{}, fmt.Errorf("%s: %w", tag, err)
		}
		if !layout.IsSignature(doc) {
			return "", ocispec.Descriptor{}, fmt.Errorf("tag %s names %s, which is not a cosign signature manifest: refusing to replace it: %w", tag, old.Digest, layout.ErrTagExists)
		}
		layers = doc.Layers
	}
	layers = append(layers, layer)
	config, err := legacyConfig(ctx, l, layers)
	if err != nil {
		return "", ocispec.Descriptor{}, err
	}
	desc, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    layers,
	})
	if err != nil {
		return "", ocispec.Descriptor{}, err
	}
	if _, err := e.Tag(tag, desc, layout.ConflictOverwrite); err != nil {
		return "", ocispec.Descriptor{}, err
	}
	return tag, desc, nil
}

// legacyConfig stores the image config cosign gives a signature manifest:
// an image config whose rootfs lists each layer's digest (the layers are
// stored uncompressed).
func legacyConfig(ctx context.Context, l *layout.Layout, layers []ocispec.Descriptor) (ocispec.Descriptor, error) {
	ids := make([]digest.Digest, len(layers))
	for i, d := range layers {
		ids[i] = d.Digest
	}
	cfg := ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: ids}}
	return l.PutJSON(ctx, ocispec.MediaTypeImageConfig, cfg)
}
