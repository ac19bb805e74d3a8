package layout

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// Docker media types that layouts written by other tools may contain.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// Annotations oras reads to unpack a directory layer on pull; pack writes
// them and extract honours them.
const (
	AnnotationUnpack = "io.deis.oras.content.unpack"
	AnnotationDigest = "io.deis.oras.content.digest"
)

// IsManifest reports whether mt is an image manifest media type.
func IsManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == MediaTypeDockerManifest
}

// IsIndex reports whether mt is an image index media type.
func IsIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == MediaTypeDockerManifestList
}

// Signature formats (package layout/sign writes and checks them; export
// puts their small blobs before the layers so an import can check
// signatures before the bulk arrives).
const (
	// MediaTypeSigstoreBundle is a Sigstore bundle v0.3: the artifactType
	// of cosign v3's signature referrers and the media type of their one
	// layer.
	MediaTypeSigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// MediaTypeCosignSimpleSigning is the layer media type of cosign's
	// legacy signatures, stored under the tag sha256-<hex>.sig.
	MediaTypeCosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
)

// IsSignature reports whether doc is a signature manifest: a Sigstore
// bundle referrer, or cosign's legacy simple-signing manifest (every layer
// of that type).
func IsSignature(doc *Document) bool {
	if doc == nil || doc.IsIndex() {
		return false
	}
	if doc.ArtifactType == MediaTypeSigstoreBundle {
		return true
	}
	if len(doc.Layers) == 0 {
		return false
	}
	for _, l := range doc.Layers {
		if l.MediaType != MediaTypeCosignSimpleSigning {
			return false
		}
	}
	return true
}
