package testsuite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas"
)

// The trust rule (RELIABILITY I6): a stored blob is relied on only if it
// was verified since it last changed.

// needFingerprints skips where the platform gives no fingerprint (then
// every check re-hashes, which the other tests cover).
func needFingerprints(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cas.FingerprintOf(fi); !ok {
		t.Skip("no file fingerprints on this platform: every trust check re-hashes")
	}
}

// records lists blob d's record files.
func records(t *testing.T, dir string, d digest.Digest) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(Records), d.Algorithm().String(), d.Encoded()+".*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mustCheck runs Check and fails on an error.
func mustCheck[W Writer](t *testing.T, st Store[W], d digest.Digest) cas.Status {
	t.Helper()
	s, err := st.Check(context.Background(), d)
	if err != nil {
		t.Fatalf("Check(%s): %v", d, err)
	}
	return s
}

// putFresh stores b and returns its descriptor and blob path.
func putFresh[W Writer](t *testing.T, st Store[W], dir string, b []byte) (ocispec.Descriptor, string) {
	t.Helper()
	want := Desc(mtLayer, b)
	if _, err := st.Put(context.Background(), bytes.NewReader(b), want); err != nil {
		t.Fatal(err)
	}
	return want, filepath.Join(dir, blobRel(want.Digest))
}

// trustRecordAtCommit: a committed blob is trusted without a read; one
// without a record is re-hashed once, after which it is trusted unread;
// a full verified read (OpenVerified to EOF) records it too.
func (s suite[S, W]) trustRecordAtCommit(t *testing.T) {
	st, dir := s.fresh(t)
	needFingerprints(t, dir)
	b := Content("record", 50_000)
	want, _ := putFresh(t, st, dir, b)
	if got := mustCheck(t, st, want.Digest); got.State != cas.Trusted || got.Hashed != 0 || got.Size != want.Size {
		t.Fatalf("Check after commit = %+v; want trusted from the commit's record, nothing read", got)
	}
	if n := len(records(t, dir, want.Digest)); n != 1 {
		t.Fatalf("%d records after commit, want 1", n)
	}
	if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(Records))); err != nil {
		t.Fatal(err)
	}
	if got := mustCheck(t, st, want.Digest); got.State != cas.Trusted || got.Hashed != want.Size {
		t.Fatalf("Check without a record = %+v; want trusted after re-hashing %d bytes", got, want.Size)
	}
	if got := mustCheck(t, st, want.Digest); got.Hashed != 0 {
		t.Fatalf("second Check re-hashed %d bytes; the first should have recorded the blob", got.Hashed)
	}
	if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(Records))); err != nil {
		t.Fatal(err)
	}
	readVerified(t, st, want)
	if got := mustCheck(t, st, want.Digest); got.State != cas.Trusted || got.Hashed != 0 {
		t.Fatalf("Check after a verified read = %+v; want trusted unread", got)
	}
}

// tamper is one way a stored blob can change behind the store. good says
// whether the bytes left are still right (a faithful copy).
type tamper struct {
	name string
	good bool
	do   func(t *testing.T, p string, b []byte)
}

func tampers() []tamper {
	flip := func(b []byte) []byte { c := slices.Clone(b); c[len(c)/2] ^= 0x01; return c }
	rewrite := func(t *testing.T, p string, content []byte) {
		t.Helper()
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	replace := func(t *testing.T, p string, content []byte) {
		t.Helper()
		tmp := p + ".new"
		if err := os.WriteFile(tmp, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	return []tamper{
		{"byte flipped in place", false, func(t *testing.T, p string, b []byte) { rewrite(t, p, flip(b)) }},
		{"byte flipped, mtime restored", false, func(t *testing.T, p string, b []byte) {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			// A change in the clock tick of the last stat is the
			// documented residual (cas.Fingerprint): step past it.
			time.Sleep(20 * time.Millisecond)
			rewrite(t, p, flip(b))
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated", false, func(t *testing.T, p string, b []byte) { rewrite(t, p, b[:len(b)/3]) }},
		{"truncated to zero", false, func(t *testing.T, p string, b []byte) { rewrite(t, p, nil) }},
		{"extended", false, func(t *testing.T, p string, b []byte) { rewrite(t, p, append(slices.Clone(b), 0)) }},
		{"replaced by other bytes", false, func(t *testing.T, p string, b []byte) { replace(t, p, flip(b)) }},
		{"replaced by a faithful copy", true, func(t *testing.T, p string, b []byte) { replace(t, p, b) }},
	}
}

// trustAfterChange: whatever changed a blob, it is re-hashed before it is
// trusted; only right bytes are.
func (s suite[S, W]) trustAfterChange(t *testing.T) {
	for _, tc := range tampers() {
		t.Run(tc.name, func(t *testing.T) {
			st, dir := s.fresh(t)
			needFingerprints(t, dir)
			b := Content("change "+tc.name, 40_000)
			want, p := putFresh(t, st, dir, b)
			tc.do(t, p, b)
			got := mustCheck(t, st, want.Digest)
			if got.Hashed == 0 && got.State == cas.Trusted {
				t.Fatalf("after %s: Check trusted the blob without reading it", tc.name)
			}
			if tc.good {
				if got.State != cas.Trusted {
					t.Fatalf("after %s: Check = %+v, want trusted", tc.name, got)
				}
				return
			}
			if got.State != cas.Corrupt || got.Why == "" {
				t.Fatalf("after %s: Check = %+v, want corrupt with a reason", tc.name, got)
			}
			if ok, err := st.Has(context.Background(), want); ok || err != nil {
				t.Fatalf("after %s: Has = %v, %v; want false", tc.name, ok, err)
			}
		})
	}
}

// repairByCommit: the right bytes, committed over a corrupt blob by any
// ingest path, replace it atomically and are reported; wrong bytes never
// replace anything.
func (s suite[S, W]) repairByCommit(t *testing.T) {
	paths := []struct {
		name string
		put  func(st Store[W], want ocispec.Descriptor, b []byte) (cas.Result, error)
	}{
		{"Put with digest", func(st Store[W], want ocispec.Descriptor, b []byte) (cas.Result, error) {
			return st.Put(context.Background(), bytes.NewReader(b), want)
		}},
		{"Writer without digest", func(st Store[W], _ ocispec.Descriptor, b []byte) (cas.Result, error) {
			return ingestChunked(st, ocispec.Descriptor{}, b)
		}},
	}
	for _, tc := range tampers() {
		if tc.good {
			continue
		}
		for _, path := range paths {
			t.Run(tc.name+"/"+path.name, func(t *testing.T) {
				st, dir := s.fresh(t)
				needFingerprints(t, dir)
				var repaired []cas.Repair
				var mu sync.Mutex
				st.OnRepair(func(r cas.Repair) { mu.Lock(); repaired = append(repaired, r); mu.Unlock() })
				b := Content("repair "+tc.name, 30_000)
				want, p := putFresh(t, st, dir, b)
				tc.do(t, p, b)
				rotten, _ := os.ReadFile(p)

				wrong := slices.Clone(b)
				wrong[0] ^= 0xff
				if _, err := st.Put(context.Background(), bytes.NewReader(wrong), want); !errors.Is(err, cas.ErrDigestMismatch) {
					t.Fatalf("Put of wrong bytes over a corrupt blob = %v, want ErrDigestMismatch", err)
				}
				if now, _ := os.ReadFile(p); !bytes.Equal(now, rotten) {
					t.Fatalf("unverified bytes replaced the corrupt blob")
				}
				before := snapshot(t, dir)
				res, err := path.put(st, want, b)
				if err != nil || res.Reused || !res.Repaired {
					t.Fatalf("commit of the right bytes over a corrupt blob = %+v, %v; want Repaired, not Reused", res, err)
				}
				if len(repaired) != 1 || repaired[0].Digest != want.Digest || repaired[0].Why == "" {
					t.Fatalf("OnRepair told %+v; want one repair of %s with a reason", repaired, want.Digest)
				}
				assertNewFiles(t, before, snapshot(t, dir))
				assertStored(t, st, want, b)
				if got := mustCheck(t, st, want.Digest); got.State != cas.Trusted || got.Hashed != 0 {
					t.Fatalf("Check after repair = %+v; want trusted from the repair's record", got)
				}
				if res, err := path.put(st, want, b); err != nil || !res.Reused || res.Repaired {
					t.Fatalf("commit after repair = %+v, %v; want Reused", res, err)
				}
			})
		}
	}
}

// recordsCrashSafe: what a crash, another tool or a hostile hand leaves
// among the records — anything but an empty regular file at a record's
// name, a records directory that is a file or a link out of the layout —
// never makes a changed blob trusted and never stops a commit.
func (s suite[S, W]) recordsCrashSafe(t *testing.T) {
	outside := t.TempDir()
	plants := []struct {
		name  string
		plant func(p string) error
	}{
		{"non-empty file (torn or foreign)", func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"symlink to an empty file", func(p string) error {
			e := filepath.Join(outside, "empty")
			if err := os.WriteFile(e, nil, 0o644); err != nil {
				return err
			}
			return os.Symlink(e, p)
		}},
		{"FIFO", mkfifo},
	}
	for _, pl := range plants {
		t.Run(pl.name, func(t *testing.T) {
			st, dir := s.fresh(t)
			needFingerprints(t, dir)
			b := Content("records "+pl.name, 20_000)
			want, p := putFresh(t, st, dir, b)
			tampers()[0].do(t, p, b)
			// Plant at the name the changed blob's record would have.
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			fp, _ := cas.FingerprintOf(fi)
			rec := filepath.Join(dir, filepath.FromSlash(Records), want.Digest.Algorithm().String(), want.Digest.Encoded()+"."+fp.String())
			if err := pl.plant(rec); err != nil {
				t.Skipf("cannot plant a %s: %v", pl.name, err)
			}
			if got := mustCheck(t, st, want.Digest); got.State != cas.Corrupt {
				t.Fatalf("a %s at the record's name made a changed blob %v", pl.name, got.State)
			}
			if res, err := st.Put(context.Background(), bytes.NewReader(b), want); err != nil || !res.Repaired {
				t.Fatalf("repair beside a planted %s = %+v, %v", pl.name, res, err)
			}
			assertStored(t, st, want, b)
		})
	}
	for _, bad := range []struct {
		name  string
		plant func(p string) error
	}{
		{"records dir is a file", func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) }},
		{"records dir links out of the layout", func(p string) error { return os.Symlink(outside, p) }},
	} {
		t.Run(bad.name, func(t *testing.T) {
			outside := t.TempDir()
			st, dir := s.fresh(t)
			needFingerprints(t, dir)
			rd := filepath.Join(dir, filepath.FromSlash(Records))
			if err := os.MkdirAll(filepath.Dir(rd), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := bad.plant(rd); err != nil {
				t.Fatal(err)
			}
			b := Content(bad.name, 9000)
			want, p := putFresh(t, st, dir, b)
			assertStored(t, st, want, b)
			tampers()[0].do(t, p, b)
			if got := mustCheck(t, st, want.Digest); got.State != cas.Corrupt {
				t.Fatalf("with %s a changed blob is %v", bad.name, got.State)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("records written outside the layout: %v", ents)
			}
		})
	}
}

// pruneRecords: PruneRecords removes records that can no longer match
// (blob changed, blob gone, junk) and keeps the live ones.
func (s suite[S, W]) pruneRecords(t *testing.T) {
	st, dir := s.fresh(t)
	needFingerprints(t, dir)
	ctx := context.Background()
	keep, _ := putFresh(t, st, dir, Content("keep", 5000))
	changed, pc := putFresh(t, st, dir, Content("changed", 5000))
	gone, pg := putFresh(t, st, dir, Content("gone", 5000))
	deleted, _ := putFresh(t, st, dir, Content("deleted", 5000))
	tampers()[6].do(t, pc, Content("changed", 5000)) // faithful copy: new inode
	if got := mustCheck(t, st, changed.Digest); got.State != cas.Trusted {
		t.Fatalf("faithful copy: %+v", got)
	}
	if n := len(records(t, dir, changed.Digest)); n != 2 {
		t.Fatalf("%d records of a re-verified blob, want the stale one and the new one", n)
	}
	if err := os.Remove(pg); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, deleted.Digest); err != nil {
		t.Fatal(err)
	}
	if n := len(records(t, dir, deleted.Digest)); n != 0 {
		t.Fatalf("Delete left %d records of the blob", n)
	}
	algDir := filepath.Join(dir, filepath.FromSlash(Records), "sha256")
	for _, junk := range []string{"not-a-record", keep.Digest.Encoded() + ".zz", keep.Digest.Encoded() + ".1-2-3-4-5"} {
		if err := os.WriteFile(filepath.Join(algDir, junk), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.PruneRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 { // changed's stale record, gone's, three junk names
		t.Errorf("PruneRecords removed %d, want 5", n)
	}
	for _, d := range []ocispec.Descriptor{keep, changed} {
		if got := len(records(t, dir, d.Digest)); got != 1 {
			t.Errorf("%s: %d records left, want 1", d.Digest, got)
		}
		if got := mustCheck(t, st, d.Digest); got.Hashed != 0 {
			t.Errorf("%s re-hashed after prune: its live record was removed", d.Digest)
		}
	}
	if got := len(records(t, dir, gone.Digest)); got != 0 {
		t.Errorf("record of a vanished blob kept")
	}
}

// concurrentRepairs: 64 ingests of the right bytes over one corrupt blob
// all succeed and leave it right; the repair is reported.
func (s suite[S, W]) concurrentRepairs(t *testing.T) {
	st, dir := s.fresh(t)
	needFingerprints(t, dir)
	var n atomic.Int32
	st.OnRepair(func(cas.Repair) { n.Add(1) })
	b := Content("concurrent repair", 64<<10)
	want, p := putFresh(t, st, dir, b)
	tampers()[2].do(t, p, b)
	before := snapshot(t, dir)
	parallel(t, 64, func(int) error {
		_, err := st.Put(context.Background(), bytes.NewReader(b), want)
		return err
	})
	if n.Load() < 1 {
		t.Errorf("no repair reported")
	}
	assertNewFiles(t, before, snapshot(t, dir))
	assertStored(t, st, want, b)
}
