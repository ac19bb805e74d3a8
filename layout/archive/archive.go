// Package archive moves OCI image layouts across air gaps as tarballs
// (DESIGN section 4): Export writes a deterministic PAX tar of a layout or
// of some refs' graphs, Import verifies and merges such a tarball (or
// skopeo's oci-archive, or a plain tar of a layout) into a layout, and
// Receipt lists what a layout holds so a later export can leave it out.
// Split volumes and their sha256sum sidecar are handled by VolumeWriter
// and VolumeReader.
//
// Import never uses an entry name as a host path (RELIABILITY I7): names
// are parsed into digests, blobs are staged and verified by package cas,
// and index.json and oci-layout are kept in memory. Tags change in one
// index.json update at the end, or not at all (I5).
package archive

import "errors"

// Sentinel errors. Every failure of the integrity class wraps one of these
// (or a cas/layout/strictjson sentinel), so callers classify with errors.Is.
var (
	// ErrInvalid: the archive is malformed or hostile (bad entry name or
	// type, duplicate entry, digest-name mismatch, outside the layout
	// shape, oversize or ambiguous JSON).
	ErrInvalid = errors.New("invalid archive")
	// ErrTruncated: the archive ends early (mid-entry, without the
	// end-of-archive marker, or without index.json).
	ErrTruncated = errors.New("archive truncated or incomplete")
	// ErrChecksum: a volume does not match its sha256 sidecar.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTooLarge: the archive would write more than its budget
	// (a decompression bomb, or not enough free space).
	ErrTooLarge = errors.New("archive exceeds budget")
	// ErrNoSpace: the archive would write more than the layout's file
	// system has free (the default budget): an environment failure
	// (RELIABILITY I11: ENOSPC is exit 1), not an integrity one.
	ErrNoSpace = errors.New("not enough free space")
)

// Paths and limits.
const (
	// MaxEntries bounds the entries one archive may hold (I8). It matches
	// layout.MaxDescriptors; the import keeps one set entry per blob, so
	// this also bounds its memory (about 10 MiB at the cap).
	MaxEntries = 100_000
	// blockSize is the tar block size.
	blockSize = 512
	// copyBufferSize is the chunk in which blob bytes are copied.
	copyBufferSize = 1 << 20
)

// problems is a list of errors reported together on one line ("; "
// between them) that still unwrap to each one's sentinel.
type problems []error

func (p problems) Error() string {
	var b []byte
	for i, e := range p {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, e.Error()...)
	}
	return string(b)
}

func (p problems) Unwrap() []error { return p }

// err returns p as an error, or nil when it is empty.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}
