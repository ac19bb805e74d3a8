// Package cas is a content-addressed blob store laid out as the blobs/
// directory of an OCI image layout. It owns digest validation, streaming
// ingest with verification, dedupe, atomic commit, and safe opening of
// blobs. It knows nothing about manifests, tags or JSON.
package cas

import (
	"errors"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// Sentinel errors. Every error returned by this package that belongs to one
// of these classes wraps it, so callers test with errors.Is.
var (
	// ErrNotFound: no blob with that digest is stored.
	ErrNotFound = errors.New("blob not found")
	// ErrInvalidDigest: the digest string is malformed or names an
	// unsupported algorithm. No path was built from it.
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrDigestMismatch: the bytes do not hash to the expected digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: the byte count differs from the expected size
	// (including trailing data beyond it).
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrNotRegular: a blob path exists but is not a regular file
	// (symlink, FIFO, device, directory).
	ErrNotRegular = fsx.ErrNotRegular
	// ErrAborted: the writer was used after Abort or Commit.
	ErrAborted = errors.New("writer closed")
)
