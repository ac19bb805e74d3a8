package cas

import (
	_ "crypto/sha256" // register sha256 with go-digest
	_ "crypto/sha512" // register sha512 with go-digest
	"errors"
	"fmt"
	"path"

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
