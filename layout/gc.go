package layout

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
)

// GCResult is what GC removed (or, dry, would remove).
type GCResult struct {
	Blobs   []cas.Info
	Bytes   int64
	Staging []string // stale staging directories of dead processes
	Records int      // verified-fingerprint records removed: of blobs gone or changed
}

// GC deletes every blob not reachable from index.json, the staging
// directories of processes that are gone, the state and partial blobs
// interrupted transfers kept for resuming (ResumeDir), and the
// verified-fingerprint records that can no longer match (cas
// PruneRecords). It needs a layout opened
// Exclusive, so no other oci-pack process is reading or staging. If any
// reachable manifest cannot be read, nothing is deleted: its children are
// unknown. With dryRun nothing is deleted at all.
func (l *Layout) GC(ctx context.Context, dryRun bool) (*GCResult, error) {
	if l.opts.Mode != Exclusive {
		return nil, fmt.Errorf("gc needs the layout opened exclusively")
	}
	reach, err := l.Reachable(ctx)
	if err != nil {
		return nil, fmt.Errorf("gc: cannot tell what is reachable, deleting nothing: %w", err)
	}
	res := &GCResult{}
	err = l.blobs.Walk(ctx, func(info cas.Info) error {
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
