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
