package archive

import (
	"context"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Source is one archive for ImportAll.
type Source struct {
	// Name names the archive in messages and progress ("" for one
	// unnamed archive).
	Name string
	R    io.Reader
	// Size is the archive's size in bytes, for progress (<= 0: unknown).
	Size int64
	// Verify, if not nil, runs after the archive's last byte was read;
	// the CLI checks a volume set's sidecar here.
	Verify func() error
	// Index, if set, is the digest the archive's index.json must have
	// (a signed transfer names it).
	Index digest.Digest
	// Resume, if not nil, checkpoints the import of this archive in the
	// layout and resumes an interrupted one (OpenArchives sets it for
	// archives read from regular files).
	Resume *Resumer
}

// ImportAll imports several archives into l (`oci-pack import a.tar
// b.tar L`): each is read and verified in turn exactly as Import reads
// one (o.Size and o.Verify are ignored: each Source has its own), and the
// tags of all of them change together, in one index.json update after the
// last archive passed — or not at all. A tag that two archives set to
// different digests is resolved by o.Conflict as against the layout: fail
// (an error naming both archives), skip (the first archive's), overwrite
// (the last one's). Blobs of the archives read before a failure stay
// committed, as with Import.
func ImportAll(ctx context.Context, l *layout.Layout, srcs []Source, o ImportOptions) (*ImportResult, error) {
	total := &ImportResult{}
	merged := &ocispec.Index{Manifests: []ocispec.Descriptor{}}
	merged.SchemaVersion = 2
	type origin struct {
		at  int    // index in merged.Manifests
		src string // the archive that set it
	}
	tagFrom := map[string]origin{}
	var size int64
	for _, src := range srcs {
		if src.Size <= 0 {
			size = -1
			break
		}
		size += src.Size
	}
	o.Progress.Total(size)
	for _, src := range srcs {
		idx, res, err := readArchive(ctx, l, src, o)
		if err != nil {
			if len(srcs) > 1 {
				return nil, fmt.Errorf("%s: %w", src.Name, err)
			}
			return nil, err
		}
		total.Compression = res.Compression
		total.Imported += res.Imported
		total.ImportedBytes += res.ImportedBytes
		total.Reused += res.Reused
		total.ReusedBytes += res.ReusedBytes
		total.Rebuilt += res.Rebuilt
		total.RebuiltBytes += res.RebuiltBytes
		for _, d := range idx.Manifests {
			name, tagged := d.Annotations[ocispec.AnnotationRefName]
			prev, seen := tagFrom[name]
			switch {
			case !tagged || layout.IsReferrersTag(name) || legacySignature(ctx, l, name, d):
				// Untagged entries are deduplicated by the merge; two
				// referrers-tag indexes, or two legacy signature
				// manifests, are merged, never a conflict.
				merged.Manifests = append(merged.Manifests, d)
				continue
			case !seen:
				tagFrom[name] = origin{len(merged.Manifests), src.Name}
				merged.Manifests = append(merged.Manifests, d)
			case merged.Manifests[prev.at].Digest == d.Digest:
			case o.Conflict == layout.ConflictOverwrite:
				merged.Manifests[prev.at] = d
				tagFrom[name] = origin{prev.at, src.Name}
			case o.Conflict == layout.ConflictFail:
				return nil, fmt.Errorf("tag %q is %s in %s but %s in %s: %w", name, merged.Manifests[prev.at].Digest, prev.src, d.Digest, src.Name, layout.ErrTagExists)
			}
		}
	}
	if o.Admit != nil {
		if err := o.Admit(ctx, merged); err != nil {
			return nil, err
		}
	}
	if err := mergeIndex(ctx, l, merged, o.Conflict, total); err != nil {
		return nil, err
	}
	for _, src := range srcs {
		src.Resume.finish()
	}
	return total, nil
}
