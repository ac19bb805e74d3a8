// Package modelcar is the image-volume form of a model: an OCI image that
// containerd (and so a Kubernetes image volume, or KServe's modelcar)
// mounts as a directory of the model's files.
//
// The form (DESIGN §5b, issue 17):
//
//   - an image index with one image manifest per platform (linux/amd64 and
//     linux/arm64 unless told otherwise), so any node pulls its own; the
//     manifests differ only in their configs and share every layer;
//   - per manifest an image config (application/vnd.oci.image.config.v1+json)
//     with os, architecture, rootfs.diff_ids and one history entry per
//     layer, and no timestamp unless one is asked for;
//   - one uncompressed tar layer (application/vnd.oci.image.layer.v1.tar,
//     so its diff_id is its digest and nothing is decompressed at mount
//     time) per file, holding that file under the mount directory
//     ("models/") with its parent directories: a FileTar. The layer keeps
//     the file's org.opencontainers.image.title and carries
//     layout.AnnotationTarOf, the digest of the file's bytes — the raw
//     layer it mirrors, which lets an export carry the file once.
//
// This package knows the form's bytes: FileTar makes a layer's headers,
// Build writes configs, manifests and the index through the layout's
// document door, Read recognises the form again (for extract and
// inspect). Package pack feeds it files (reading each once), and package
// layout/archive carries a FileTar across an air gap as a recipe.
package modelcar

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultMountDir is the directory of the image that holds the files, as
// KServe's modelcar and its examples expect (/models).
const DefaultMountDir = "models"

// DefaultPlatforms are the platforms of the index when none are asked for.
var DefaultPlatforms = []ocispec.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// platformPart is the grammar of an os, architecture or variant (as
// containerd's platforms package accepts them, lower-cased).
var platformPart = regexp.MustCompile(`^[a-z0-9_]+$`)

// ParsePlatforms parses "os/arch[/variant]" strings (each may also be a
// comma-separated list) into platforms, in order. None: DefaultPlatforms.
// A malformed or repeated platform is an error wrapping
// layout.ErrInvalidArgument.
func ParsePlatforms(specs []string) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	seen := map[string]bool{}
	for _, spec := range specs {
		for s := range strings.SplitSeq(spec, ",") {
			s = strings.TrimSpace(s)
			parts := strings.Split(s, "/")
			if len(parts) < 2 || len(parts) > 3 {
				return nil, fmt.Errorf("%w: platform %q: expected os/architecture[/variant], such as linux/arm64", layout.ErrInvalidArgument, s)
			}
			for _, p := range parts {
				if !platformPart.MatchString(p) {
					return nil, fmt.Errorf("%w: platform %q: %q is not a lower-case os, architecture or variant name", layout.ErrInvalidArgument, s, p)
				}
			}
			p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
			if len(parts) == 3 {
				p.Variant = parts[2]
			}
			key := PlatformString(p)
			if seen[key] {
				return nil, fmt.Errorf("%w: platform %s given twice", layout.ErrInvalidArgument, key)
			}
			seen[key] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return append([]ocispec.Platform(nil), DefaultPlatforms...), nil
	}
	return out, nil
}

// PlatformString formats p as os/arch[/variant].
func PlatformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// CleanMountDir checks and normalises the directory the files go under:
// a relative slash path without "." or ".." components (a leading "/" is
// dropped: "/models" and "models" are the same directory of the image).
// Errors wrap layout.ErrInvalidArgument.
func CleanMountDir(dir string) (string, error) {
	d := strings.Trim(dir, "/")
	if d == "" {
		return "", fmt.Errorf("%w: mount directory %q: expected a directory such as %s", layout.ErrInvalidArgument, dir, DefaultMountDir)
	}
	for c := range strings.SplitSeq(d, "/") {
		if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "\\\x00") {
			return "", fmt.Errorf("%w: mount directory %q: expected a plain relative path without ., .., empty components or backslashes", layout.ErrInvalidArgument, dir)
		}
	}
	return path.Clean(d), nil
}
