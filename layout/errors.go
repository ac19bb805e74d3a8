// Package layout manages an OCI image layout directory: oci-layout,
// index.json (changed only through UpdateIndex, under a file lock), tags,
// reference resolution, the descriptor graph, referrers, verification and
// garbage collection. Blobs themselves are kept by package cas.
package layout

import "errors"

// Sentinel errors; the CLI maps them to exit codes.
var (
	// ErrNotLayout: the directory is not an OCI image layout, or its
	// top-level files are missing or malformed.
	ErrNotLayout = errors.New("not an OCI image layout")
	// ErrCorrupt: a document in the layout is malformed, inconsistent or
	// hostile (integrity class).
	ErrCorrupt = errors.New("corrupt layout")
	// ErrTagNotFound: no such tag.
	ErrTagNotFound = errors.New("tag not found")
	// ErrTagExists: the tag already names another digest (conflict class).
	ErrTagExists = errors.New("tag exists")
	// ErrInvalidTag: the tag is outside the ref.name grammar (usage class).
	ErrInvalidTag = errors.New("invalid tag")
	// ErrLocked: the layout lock was not granted within the timeout
	// (conflict class).
	ErrLocked = errors.New("layout locked")
	// ErrMissingBlob: a referenced blob is absent (sparse layout).
	ErrMissingBlob = errors.New("missing blob")
	// ErrReadOnly: a write was attempted on a layout opened read-only.
	ErrReadOnly = errors.New("layout opened read-only")
	// ErrInvalidArgument: the caller asked for something that cannot be
	// done as asked — a bad option value, an input the operation refuses,
	// an output path it must not write (usage class). The message names
	// the argument and what is expected instead.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotManifest: a digest given where a manifest or index is needed
	// names a stored blob that is neither (usage class).
	ErrNotManifest = errors.New("not a manifest or index")
)
