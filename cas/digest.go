package cas

import (
	_ "crypto/sha256" // register sha256 with go-digest
	_ "crypto/sha512" // register sha512 with go-digest
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
)

// ParseDigest validates s completely — grammar, registered algorithm, exact
// lowercase hex length, nothing trailing — before anything else may use it
// (RELIABILITY I2). The error wraps ErrInvalidDigest and quotes s.
func ParseDigest(s string) (digest.Digest, error) {
	d := digest.Digest(s)
	if err := Validate(d); err != nil {
		return "", err
	}
	return d, nil
}

// Validate checks d as ParseDigest does.
func Validate(d digest.Digest) error {
	if wellFormed(string(d)) {
		return nil
	}
	err := d.Validate()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, digest.ErrDigestUnsupported):
		return fmt.Errorf("%w %q: unsupported digest algorithm", ErrInvalidDigest, string(d))
	default:
		return fmt.Errorf("%w %q: invalid format", ErrInvalidDigest, string(d))
	}
}

// BlobPath returns the slash-separated path of d relative to the layout
// root ("blobs/sha256/<hex>"), validating d first.
func BlobPath(d digest.Digest) (string, error) {
	if err := Validate(d); err != nil {
		return "", err
	}
	return path.Join("blobs", d.Algorithm().String(), d.Encoded()), nil
}

// wellFormed is the fast path of Validate for the common case — sha256 or
// sha512 with exactly the right number of lowercase hex digits — without
// go-digest's regular expressions (index.json can hold 100,000 digests).
// Anything else goes to go-digest for the verdict and its error.
func wellFormed(s string) bool {
	var hexLen int
	switch {
	case strings.HasPrefix(s, "sha256:"):
		s, hexLen = s[len("sha256:"):], 64
	case strings.HasPrefix(s, "sha512:"):
		s, hexLen = s[len("sha512:"):], 128
	default:
		return false
	}
	if len(s) != hexLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
