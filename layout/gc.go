package layout

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// GCResult is what GC removed (or, dry, would remove).
type GCResult struct {
	// Entries are the index.json entries dropped because their subject
	// is gone (referrers, referrers-tag indexes, cosign tags).
	Entries []GCEntry
	Blobs   []cas.Info
	Bytes   int64
	Staging []string // stale staging directories of dead processes
	Records int      // verified-fingerprint records removed: of blobs gone or changed
}

// GC deletes what nothing keeps, the staging directories of processes
// that are gone, the state and partial blobs interrupted transfers kept
// for resuming (ResumeDir), and the verified-fingerprint records that can
// no longer match (cas PruneRecords). It needs a layout opened Exclusive,
// so no other oci-pack process is reading or staging.
//
// What is kept: everything reachable from index.json's tagged entries and
// from its untagged entries that have no subject, plus every referrer
// (listed untagged), referrers-tag index (sha256-<hex>) and cosign tag
// (sha256-<hex>.sig/.att/.sbom) whose subject is kept, to a fixed point.
// First the entries whose subject is gone leave index.json, in one update
// through UpdateIndex; then the blobs nothing keeps are deleted, so a
// crash between the two leaves only garbage the next gc removes. If any
// manifest cannot be read, nothing is changed: its children are unknown.
// With dryRun nothing is changed at all.
func (l *Layout) GC(ctx context.Context, dryRun bool) (*GCResult, error) {
	if l.opts.Mode != Exclusive {
		return nil, fmt.Errorf("gc needs the layout opened exclusively")
	}
	res := &GCResult{}
	var reach map[digest.Digest]ocispec.Descriptor
	plan := func(entries []ocispec.Descriptor) error {
		live, drop, err := l.liveSet(ctx, entries)
		if err != nil {
			return fmt.Errorf("gc: cannot tell what is reachable, deleting nothing: %w", err)
		}
		reach, res.Entries = live, drop
		return nil
	}
	if dryRun {
		idx, err := l.Index(ctx)
		if err != nil {
			return nil, err
		}
		if err := plan(idx.Manifests); err != nil {
			return nil, err
		}
	} else {
		err := l.UpdateIndex(ctx, func(e *IndexEdit) error {
			if err := plan(e.Manifests()); err != nil {
				return err
			}
			// One pass: a gc may drop thousands of entries of a
			// 100,000-entry index.json.
			tags, untagged := map[string]bool{}, map[digest.Digest]bool{}
			for _, d := range res.Entries {
				if d.Tag != "" {
					tags[d.Tag] = true
				} else {
					untagged[d.Descriptor.Digest] = true
				}
			}
			e.t.removeIf(func(d ocispec.Descriptor) bool {
				if name, ok := d.Annotations[ocispec.AnnotationRefName]; ok {
					return tags[name]
				}
				return untagged[d.Digest]
			})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err := l.blobs.Walk(ctx, func(info cas.Info) error {
		if _, ok := reach[info.Digest]; ok {
			return nil
		}
		res.Blobs = append(res.Blobs, info)
		res.Bytes += info.Size
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	sort.Slice(res.Blobs, func(i, j int) bool { return res.Blobs[i].Digest < res.Blobs[j].Digest })
	if res.Staging, err = l.staleStaging(dryRun); err != nil {
		return nil, err
	}
	resume, err := l.staleResume(dryRun)
	res.Staging = append(res.Staging, resume...)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return res, nil
	}
	for _, b := range res.Blobs {
		if err := l.blobs.Delete(ctx, b.Digest); err != nil {
			return res, err
		}
	}
	if len(res.Blobs) > 0 {
		for _, alg := range algsOf(res.Blobs) {
			if err := fsx.SyncDir(l.root, path.Join(BlobsDir, alg)); err != nil {
				return res, fmt.Errorf("fsync blobs/%s: %w", alg, err)
			}
		}
	}
	if res.Records, err = l.blobs.PruneRecords(ctx); err != nil {
		return res, err
	}
	return res, nil
}

func algsOf(infos []cas.Info) []string {
	seen := map[string]bool{}
	var out []string
	for _, i := range infos {
		a := i.Digest.Algorithm().String()
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// staleStaging finds (and unless dry removes) staging directories whose
// owner is gone: their lock can be taken. Our own is skipped. Stray files
// left by an interrupted Init are removed too.
func (l *Layout) staleStaging(dry bool) ([]string, error) {
	entries, err := readDirAll(l.root, stagingDir)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", stagingDir, err)
	}
	var out []string
	for _, e := range entries {
		rel := path.Join(stagingDir, e.Name())
		if rel == l.staging {
			continue
		}
		if e.IsDir() {
			lk, err := l.lockFile(context.Background(), path.Join(rel, ".lock"), true, 0, "staging "+rel)
			if err != nil {
				continue // a live process (or unreadable): leave it
			}
			out = append(out, rel)
			if !dry {
				err = l.root.RemoveAll(rel)
			}
			lk.unlock()
			if err != nil {
				return out, fmt.Errorf("remove stale staging %s: %w", rel, err)
			}
			continue
		}
		out = append(out, rel)
		if !dry {
			if err := l.root.Remove(rel); err != nil && !isNotExist(err) {
				return out, fmt.Errorf("remove stale staging %s: %w", rel, err)
			}
		}
	}
	return out, nil
}
