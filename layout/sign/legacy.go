package sign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// AnnotationCosignSignature holds a legacy signature (base64) on its
// simple-signing layer.
const AnnotationCosignSignature = "dev.cosignproject.cosign/signature"

// addLegacy writes cosign's legacy signature of subj — a simple-signing
// payload naming subj's digest, signed as is, as one layer of the manifest
// tagged sha256-<hex>.sig (IndexEdit.AddLegacySignatures keeps the
// signatures that manifest already holds). It returns the tag and the
// manifest.
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
	desc, err := e.AddLegacySignatures(subj.Digest, layer)
	if err != nil {
		return "", ocispec.Descriptor{}, err
	}
	return legacyTag(subj.Digest), desc, nil
}
