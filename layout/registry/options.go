package registry

import (
	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options tune Push and Pull.
type Options struct {
	// Referrers also copies every artifact whose subject is in the graph
	// (signatures, SBOMs), recursively.
	Referrers bool
	// Jobs bounds the blobs in flight at once (at least 1).
	Jobs int
	// Progress, if not nil, is told about each blob transferred.
	Progress layout.Progress
	// Notify, if not nil, gets one-line messages for the user: a transfer
	// resumed ("resumed at N of M"), a session the registry forgot.
	Notify func(msg string)
	// NoResume neither uses nor keeps resume state in the layout.
	NoResume bool

	// MountFrom (Push) lists repositories on the destination registry to
	// mount blobs from before uploading them (cross-repository mount).
	MountFrom []string
	// ChunkSize (Push) is the bytes per PATCH; 0 means DefaultChunkSize.
	ChunkSize int64

	// Tag (Pull) tags the pulled root in the layout under Conflict; ""
	// lists it untagged.
	Tag      string
	Conflict layout.Conflict
}

// Result says what Push or Pull did.
type Result struct {
	Root ocispec.Descriptor
	// Sent counts the blobs and manifests transferred, Skipped those the
	// far side already had, Mounted the blobs mounted from another
	// repository; the byte counts are the blobs' sizes.
	Sent, Skipped, Mounted  int
	SentBytes, SkippedBytes int64
	// Resumed is the bytes an earlier, interrupted run had transferred
	// that this one did not send again.
	Resumed int64
	// Referrers are the referrers copied with the graph.
	Referrers []ocispec.Descriptor
	// LegacySignatures are cosign's legacy signature manifests sent or
	// fetched with the graph under their sha256-<hex>.sig tags (Push and
	// Pull with Options.Referrers).
	LegacySignatures []ocispec.Descriptor
	// Tag is what Pull did to Options.Tag.
	Tag layout.TagChange
}

func (o Options) jobs() int { return max(o.Jobs, 1) }

func (o Options) chunk() int64 {
	if o.ChunkSize > 0 {
		return o.ChunkSize
	}
	return DefaultChunkSize
}
