package cas

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Verified-fingerprint records. Blob d, verified while its fingerprint was
// fp, is recorded as an empty regular file named
//
//	<records>/<alg>/<hex>.<fp>
//
// (records is the store's Options.Records, ".oci-pack/verified" in a
// layout). The name is the whole record, so:
//   - a record is created by one exclusive create and has no content to
//     tear: a crash leaves it absent or whole; it needs no fsync, since a
//     lost record only costs a re-hash;
//   - looking one up is one Lstat of the name the blob's current stat
//     gives: no file to read, no index to load, whatever the number of
//     blobs (an empty file costs an inode, no data block);
//   - concurrent writers, in any number of processes, need no lock: two
//     creates of one name agree, and "already exists" is success;
//   - a stale record (the blob changed, was replaced or deleted) simply
//     never matches again; Delete removes the blob's current record and
//     PruneRecords (gc) the rest, so records stay bounded by the stored
//     blobs plus the changes since the last gc.
//
// Anything at a record's name that is not an empty regular file is not a
// record. A record only ever vouches for the exact fingerprint it names,
// so no planted, stale or leftover name can make changed bytes trusted.

func (s *Store) recordRel(d digest.Digest, fp Fingerprint) string {
	return path.Join(s.records, d.Algorithm().String(), d.Encoded()+"."+fp.String())
}

// recorded reports whether blob d was verified with fingerprint fp.
func (s *Store) recorded(d digest.Digest, fp Fingerprint) bool {
	if s.records == "" {
		return false
	}
	fi, err := s.root.Lstat(s.recordRel(d, fp))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == 0
}

// record notes that blob d was verified with fingerprint fp. It is best
// effort: a record that cannot be written (read-only medium, full disk)
// only means the blob is re-hashed next time. A racy fingerprint is not
// recorded (see Fingerprint.Racy).
func (s *Store) record(d digest.Digest, fp Fingerprint) {
	if s.records == "" || fp.Racy(now()) {
		return
	}
	rel := s.recordRel(d, fp)
	f, err := s.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if s.root.MkdirAll(path.Dir(rel), 0o755) != nil {
			return
		}
		f, err = s.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err == nil {
		f.Close()
	}
}

// forget removes the record of blob d at fingerprint fp, if any.
func (s *Store) forget(d digest.Digest, fp Fingerprint) {
	if s.records != "" {
		_ = s.root.Remove(s.recordRel(d, fp))
	}
}

// PruneRecords removes every record that can no longer match: of a blob
// that is gone or changed, with a name that is not a record, or anything
// that is not an empty regular file. It returns how many it removed. gc
// calls it with the layout held exclusively; run concurrently with
// writers it may remove a record just written, which costs a re-hash.
func (s *Store) PruneRecords(ctx context.Context) (int, error) {
	if s.records == "" {
		return 0, nil
	}
	algs, err := readDir(s.root, s.records)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", s.records, err)
	}
	removed := 0
	for _, a := range algs {
		dir := path.Join(s.records, a.Name())
		if !a.IsDir() {
			if err := s.root.Remove(dir); err == nil {
				removed++
			}
			continue
		}
		entries, err := readDir(s.root, dir)
		if err != nil {
			return removed, fmt.Errorf("prune %s: %w", dir, err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			if s.recordLive(a.Name(), e) {
				continue
			}
			rel := path.Join(dir, e.Name())
			if e.IsDir() {
				err = s.root.RemoveAll(rel)
			} else {
				err = s.root.Remove(rel)
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("prune %s: %w", rel, err)
			}
			removed++
		}
	}
	return removed, nil
}

// recordLive reports whether e (in the records directory of algorithm
// alg) is a record that matches its blob as the blob is now.
func (s *Store) recordLive(alg string, e fs.DirEntry) bool {
	hexPart, fpPart, ok := strings.Cut(e.Name(), ".")
	if !ok || !e.Type().IsRegular() {
		return false
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hexPart)
	fp, ok := parseFingerprint(fpPart)
	if !ok || Validate(d) != nil {
		return false
	}
	if info, err := e.Info(); err != nil || info.Size() != 0 {
		return false
	}
	p, _ := BlobPath(d)
	fi, err := s.root.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	cur, ok := FingerprintOf(fi)
	return ok && cur == fp
}
