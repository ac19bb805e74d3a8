// Package testsuite is a conformance suite for blob stores kept as the
// blobs/ directory of an OCI image layout, modelled on containerd's content
// testsuite. Any implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		testsuite.Run(t, func(t *testing.T, dir string) *cas.Store { … })
//	}
//
// The suite checks the ingest lifecycle (known and unknown digests, wrong
// digest, wrong size, trailing data, abort, dedupe, a crash between write
// and commit), digest validation before any path is built, refusal of
// symlinks, FIFOs, devices and directories under blob names, and 64
// concurrent ingests of the same and of different blobs (run it under
// -race), and the trust rule (RELIABILITY I6): a blob is relied on only if
// verified since it last changed, a corrupt one is repaired by a commit of
// the right bytes, and the verified-fingerprint records behind it are
// crash-safe (a torn, planted or stale record only costs a re-hash). It
// inspects the directory itself only to plant hostile files, to tamper
// with blobs and records, and to check that nothing but committed blobs
// (and their records, under Records) is left behind.
package testsuite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Writer is what the suite needs of an ingest in progress (*cas.Writer).
type Writer interface {
	io.Writer
	Size() int64
	Digest() digest.Digest
	// Commit verifies, fsyncs and publishes; Reused reports dedupe.
	Commit(ctx context.Context) (cas.Result, error)
	// Abort discards the staged bytes; idempotent.
	Abort() error
}

// Store is what the suite needs of a blob store; *cas.Store satisfies it
// with W = *cas.Writer. Errors must wrap the cas sentinels.
type Store[W Writer] interface {
	Writer(ctx context.Context, expected ocispec.Descriptor) (W, error)
	Put(ctx context.Context, r io.Reader, expected ocispec.Descriptor) (cas.Result, error)
	Has(ctx context.Context, desc ocispec.Descriptor) (bool, error)
	Check(ctx context.Context, d digest.Digest) (cas.Status, error)
	OnRepair(fn func(cas.Repair))
	PruneRecords(ctx context.Context) (int, error)
	Stat(ctx context.Context, d digest.Digest) (cas.Info, error)
	OpenVerified(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
	Delete(ctx context.Context, d digest.Digest) error
	Walk(ctx context.Context, fn func(cas.Info) error, bad func(rel, reason string) error) error
}

// Records is where, relative to the layout directory, an Opener's store
// must keep its verified-fingerprint records (as package layout does).
const Records = ".oci-pack/verified"

// Opener returns a store on the layout directory dir (which exists and may
// be empty), staging inside dir and keeping records under Records. Called again with the same dir it must
// return a new store on the same blobs: the suite uses that to restart after
// a simulated crash. It should close what it opens with t.Cleanup.
type Opener[S any] func(t *testing.T, dir string) S

// Run runs the conformance suite, one subtest per behaviour, each on a
// fresh directory.
func Run[S Store[W], W Writer](t *testing.T, open Opener[S]) {
	s := suite[S, W]{open: open}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"IngestKnownDigest", s.ingestKnownDigest},
		{"IngestUnknownDigest", s.ingestUnknownDigest},
		{"IngestSHA512", s.ingestSHA512},
		{"IngestEmpty", s.ingestEmpty},
		{"Put", s.put},
		{"WrongDigest", s.wrongDigest},
		{"WrongSize", s.wrongSize},
		{"TrailingData", s.trailingData},
		{"NegativeSize", s.negativeSize},
		{"Abort", s.abort},
		{"CommitDedupe", s.commitDedupe},
		{"CancelledCommit", s.cancelledCommit},
		{"CrashBetweenWriteAndCommit", s.crashBeforeCommit},
		{"InvalidDigests", s.invalidDigests},
		{"OpenVerifiedDetectsCorruption", s.corruption},
		{"RefuseSymlink", s.refuseSymlink},
		{"RefuseFIFO", s.refuseFIFO},
		{"RefuseDevice", s.refuseDevice},
		{"RefuseDirectory", s.refuseDirectory},
		{"WalkAndDelete", s.walkAndDelete},
		{"Concurrent64SameBlob", s.concurrentSame},
		{"Concurrent64DifferentBlobs", s.concurrentDifferent},
		{"TrustRecordAtCommit", s.trustRecordAtCommit},
		{"TrustAfterChange", s.trustAfterChange},
		{"RepairByCommit", s.repairByCommit},
		{"RecordsCrashSafe", s.recordsCrashSafe},
		{"PruneRecords", s.pruneRecords},
		{"Concurrent64Repairs", s.concurrentRepairs},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite[S Store[W], W Writer] struct {
	open Opener[S]
}

// fresh returns a store on a new empty directory, and the directory.
func (s suite[S, W]) fresh(t *testing.T) (S, string) {
	dir := t.TempDir()
	return s.open(t, dir), dir
}

// Content returns deterministic test bytes of length n, distinct per seed.
func Content(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	block := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:n]
}

// Desc is the sha256 descriptor of b with media type mt.
func Desc(mt string, b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

const mtLayer = "application/octet-stream"

// ingestKnownDigest stages with the digest and size known in advance.
func (s suite[S, W]) ingestKnownDigest(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("known", 100_000)
	want := Desc(mtLayer, b)
	w := mustWriter(t, st, want)
	for chunk := range slices.Chunk(b, 7_000) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if w.Size() != want.Size || w.Digest() != want.Digest {
		t.Fatalf("writer reports %s (%d bytes), wrote %s (%d bytes)", w.Digest(), w.Size(), want.Digest, want.Size)
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if res.Reused || res.Descriptor.Digest != want.Digest || res.Descriptor.Size != want.Size || res.Descriptor.MediaType != mtLayer {
		t.Fatalf("Commit = %+v, want %+v not reused", res, want)
	}
	assertStored(t, st, want, b)
	assertNewFiles(t, before, snapshot(t, dir), blobRel(want.Digest))
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v, want nil", err)
	}
	assertStored(t, st, want, b)
}

// ingestUnknownDigest stages with a zero descriptor: the digest is computed.
func (s suite[S, W]) ingestUnknownDigest(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("unknown", 3<<20+17)
	w := mustWriter(t, st, ocispec.Descriptor{})
	if _, err := io.Copy(w, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	want := Desc("", b)
	if res.Descriptor.Digest != want.Digest || res.Descriptor.Size != want.Size {
		t.Fatalf("Commit = %s (%d), want %s (%d)", res.Descriptor.Digest, res.Descriptor.Size, want.Digest, want.Size)
	}
	assertStored(t, st, want, b)
	assertNewFiles(t, before, snapshot(t, dir), blobRel(want.Digest))
}

// ingestSHA512 stores a blob under blobs/sha512/ when the expected digest
// uses that algorithm.
func (s suite[S, W]) ingestSHA512(t *testing.T) {
	st, dir := s.fresh(t)
	b := Content("sha512", 5000)
	sum := sha512.Sum512(b)
	want := ocispec.Descriptor{Digest: digest.NewDigestFromBytes(digest.SHA512, sum[:]), Size: int64(len(b))}
	res, err := st.Put(context.Background(), bytes.NewReader(b), want)
	if err != nil || res.Descriptor.Digest != want.Digest {
		t.Fatalf("Put sha512 = %+v, %v", res, err)
	}
	assertStored(t, st, want, b)
	if _, err := os.Lstat(filepath.Join(dir, "blobs", "sha512", want.Digest.Encoded())); err != nil {
		t.Fatalf("sha512 blob not at blobs/sha512/<hex>: %v", err)
	}
}

// ingestEmpty stores the zero-length blob.
func (s suite[S, W]) ingestEmpty(t *testing.T) {
	st, _ := s.fresh(t)
	w := mustWriter(t, st, ocispec.Descriptor{})
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatalf("Commit of empty blob: %v", err)
	}
	if res.Descriptor.Digest != digest.FromBytes(nil) || res.Descriptor.Size != 0 {
		t.Fatalf("empty blob committed as %s (%d bytes)", res.Descriptor.Digest, res.Descriptor.Size)
	}
	assertStored(t, st, Desc("", nil), nil)
}

// put stores with and without an expected descriptor; a second Put of a
// stored blob does not read its reader at all.
func (s suite[S, W]) put(t *testing.T) {
	st, _ := s.fresh(t)
	ctx := context.Background()
	b := Content("put", 4096)
	want := Desc(mtLayer, b)
	res, err := st.Put(ctx, bytes.NewReader(b), ocispec.Descriptor{})
	if err != nil || res.Reused || res.Descriptor.Digest != want.Digest {
		t.Fatalf("first Put = %+v, %v", res, err)
	}
	res, err = st.Put(ctx, failingReader{}, want)
	if err != nil || !res.Reused || res.Descriptor.MediaType != mtLayer {
		t.Fatalf("Put of a stored blob = %+v, %v; want Reused, reader untouched", res, err)
	}
	res, err = st.Put(ctx, bytes.NewReader(Content("other", 4096)), Desc("", Content("third", 4096)))
	if !errors.Is(err, cas.ErrDigestMismatch) {
		t.Fatalf("Put with wrong bytes = %+v, %v; want ErrDigestMismatch", res, err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("reader must not be read") }

// wrongDigest: the right number of bytes, but not the promised ones.
func (s suite[S, W]) wrongDigest(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	want := Desc(mtLayer, Content("promised", 1000))
	w := mustWriter(t, st, want)
	if _, err := w.Write(Content("delivered", 1000)); err != nil {
		t.Fatal(err)
	}
	_, err := w.Commit(context.Background())
	if !errors.Is(err, cas.ErrDigestMismatch) {
		t.Fatalf("Commit = %v, want ErrDigestMismatch", err)
	}
	assertAbsent(t, st, want)
	assertNewFiles(t, before, snapshot(t, dir))
}

// wrongSize: fewer bytes than promised.
func (s suite[S, W]) wrongSize(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("short", 1000)
	want := Desc(mtLayer, b)
	w := mustWriter(t, st, want)
	if _, err := w.Write(b[:999]); err != nil {
		t.Fatal(err)
	}
	_, err := w.Commit(context.Background())
	if !errors.Is(err, cas.ErrSizeMismatch) {
		t.Fatalf("Commit of 999 of 1000 bytes = %v, want ErrSizeMismatch", err)
	}
	assertAbsent(t, st, want)
	assertNewFiles(t, before, snapshot(t, dir))
}

// trailingData: a write beyond the expected size fails at Write, so disk use
// never exceeds the descriptor's promise, and the blob is never published.
func (s suite[S, W]) trailingData(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("trailing", 1000)
	want := Desc(mtLayer, b)
	w := mustWriter(t, st, want)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte{0}); !errors.Is(err, cas.ErrSizeMismatch) || n != 0 {
		t.Fatalf("Write past expected size = %d, %v; want 0, ErrSizeMismatch", n, err)
	}
	if got := stagedBytes(t, before, snapshot(t, dir)); got > want.Size {
		t.Fatalf("%d bytes staged for a %d byte blob", got, want.Size)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	w2 := mustWriter(t, st, want)
	if n, err := w2.Write(append(slices.Clone(b), '\n')); !errors.Is(err, cas.ErrSizeMismatch) || n != 0 {
		t.Fatalf("one Write of size+1 bytes = %d, %v; want 0, ErrSizeMismatch", n, err)
	}
	w2.Abort()
	assertAbsent(t, st, want)
	assertNewFiles(t, before, snapshot(t, dir))
}

func (s suite[S, W]) negativeSize(t *testing.T) {
	st, _ := s.fresh(t)
	d := Desc(mtLayer, []byte("x"))
	d.Size = -1
	if w, err := st.Writer(context.Background(), d); !errors.Is(err, cas.ErrSizeMismatch) {
		t.Fatalf("Writer(size -1) = %v, %v; want ErrSizeMismatch", w, err)
	}
}

// abort removes the staged file; the writer is dead afterwards.
func (s suite[S, W]) abort(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("abort", 50_000)
	w := mustWriter(t, st, ocispec.Descriptor{})
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if got := stagedBytes(t, before, snapshot(t, dir)); got != int64(len(b)) {
		t.Fatalf("staged %d bytes before Abort, want %d", got, len(b))
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	assertNewFiles(t, before, snapshot(t, dir))
	if _, err := w.Write(b); !errors.Is(err, cas.ErrAborted) {
		t.Fatalf("Write after Abort = %v, want ErrAborted", err)
	}
	if _, err := w.Commit(context.Background()); !errors.Is(err, cas.ErrAborted) {
		t.Fatalf("Commit after Abort = %v, want ErrAborted", err)
	}
	assertAbsent(t, st, Desc("", b))
}

// commitDedupe: a second ingest of stored bytes is Reused and leaves no
// staging; a second Commit of one writer fails without harm.
func (s suite[S, W]) commitDedupe(t *testing.T) {
	st, dir := s.fresh(t)
	ctx := context.Background()
	b := Content("dedupe", 10_000)
	want := Desc(mtLayer, b)
	w := mustWriter(t, st, ocispec.Descriptor{MediaType: mtLayer})
	w.Write(b)
	if res, err := w.Commit(ctx); err != nil || res.Reused {
		t.Fatalf("first Commit = %+v, %v", res, err)
	}
	if _, err := w.Commit(ctx); !errors.Is(err, cas.ErrAborted) {
		t.Fatalf("second Commit of one writer = %v, want ErrAborted", err)
	}
	before := snapshot(t, dir)
	for _, exp := range []ocispec.Descriptor{{}, want} {
		w := mustWriter(t, st, exp)
		w.Write(b)
		res, err := w.Commit(ctx)
		if err != nil || !res.Reused || res.Descriptor.Digest != want.Digest {
			t.Fatalf("Commit of stored bytes (expected %v) = %+v, %v; want Reused", exp.Digest, res, err)
		}
	}
	assertNewFiles(t, before, snapshot(t, dir))
	assertStored(t, st, want, b)
}

// cancelledCommit: a cancelled context publishes nothing.
func (s suite[S, W]) cancelledCommit(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("cancel", 1000)
	w := mustWriter(t, st, ocispec.Descriptor{})
	w.Write(b)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with cancelled context = %v, want context.Canceled", err)
	}
	w.Abort()
	assertAbsent(t, st, Desc("", b))
	assertNewFiles(t, before, snapshot(t, dir))
}

// crashBeforeCommit: bytes written but never committed (the process died)
// must never be visible as a blob, and a store opened afterwards works.
func (s suite[S, W]) crashBeforeCommit(t *testing.T) {
	dir := t.TempDir()
	crashed := s.open(t, dir)
	b := Content("crash", 200_000)
	want := Desc(mtLayer, b)
	w := mustWriter(t, crashed, want)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Abort() }) // only releases the file handle

	restarted := s.open(t, dir)
	assertAbsent(t, restarted, want)
	if _, err := os.Lstat(filepath.Join(dir, blobRel(want.Digest))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("uncommitted blob visible under blobs/: %v", err)
	}
	res, err := restarted.Put(context.Background(), bytes.NewReader(b), want)
	if err != nil || res.Reused {
		t.Fatalf("Put after restart = %+v, %v; want a fresh commit", res, err)
	}
	assertStored(t, restarted, want, b)
}

// assertStored checks every read path agrees that want holds exactly b.
func assertStored[W Writer](t *testing.T, st Store[W], want ocispec.Descriptor, b []byte) {
	t.Helper()
	ctx := context.Background()
	info, err := st.Stat(ctx, want.Digest)
	if err != nil || info.Size != want.Size || info.Digest != want.Digest {
		t.Fatalf("Stat(%s) = %+v, %v; want size %d", want.Digest, info, err, want.Size)
	}
	if ok, err := st.Has(ctx, want); !ok || err != nil {
		t.Fatalf("Has(%s) = %v, %v; want true", want.Digest, ok, err)
	}
	bigger := want
	bigger.Size++
	if ok, err := st.Has(ctx, bigger); ok || err != nil {
		t.Fatalf("Has(%s) with size+1 = %v, %v; want false: dedupe must check the size", want.Digest, ok, err)
	}
	got := readVerified(t, st, want)
	if !bytes.Equal(got, b) {
		t.Fatalf("blob %s reads back %d bytes, differing from the %d written", want.Digest, len(got), len(b))
	}
}

func readVerified[W Writer](t *testing.T, st Store[W], want ocispec.Descriptor) []byte {
	t.Helper()
	rc, err := st.OpenVerified(context.Background(), want)
	if err != nil {
		t.Fatalf("OpenVerified(%s): %v", want.Digest, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", want.Digest, err)
	}
	return got
}

func assertAbsent[W Writer](t *testing.T, st Store[W], want ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Stat(ctx, want.Digest); !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Stat(%s) = %v, want ErrNotFound", want.Digest, err)
	}
	if ok, err := st.Has(ctx, want); ok || err != nil {
		t.Fatalf("Has(%s) = %v, %v; want false", want.Digest, ok, err)
	}
	err := st.Walk(ctx, func(i cas.Info) error {
		if i.Digest == want.Digest {
			return fmt.Errorf("Walk lists %s", i.Digest)
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func mustWriter[W Writer](t *testing.T, st Store[W], want ocispec.Descriptor) W {
	t.Helper()
	w, err := st.Writer(context.Background(), want)
	if err != nil {
		t.Fatalf("Writer(%v): %v", want.Digest, err)
	}
	return w
}

// blobRel is the host-relative path of a (valid) digest's blob.
func blobRel(d digest.Digest) string {
	return filepath.Join("blobs", d.Algorithm().String(), d.Encoded())
}

// fileState is one non-directory file found by snapshot.
type fileState struct {
	mode fs.FileMode
	size int64
}

// snapshot lists every non-directory below dir by relative path, but for
// the verified-fingerprint records (see records).
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel == filepath.FromSlash(Records) {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fileState{mode: fi.Mode(), size: fi.Size()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertNewFiles checks that the files in after but not before are exactly
// want (and that none disappeared): nothing staged is left behind.
func assertNewFiles(t *testing.T, before, after map[string]fileState, want ...string) {
	t.Helper()
	var added, removed []string
	for p := range after {
		if _, ok := before[p]; !ok {
			added = append(added, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			removed = append(removed, p)
		}
	}
	slices.Sort(added)
	slices.Sort(want)
	if !slices.Equal(added, want) || len(removed) > 0 {
		t.Fatalf("files added %q (want %q), removed %q", added, want, removed)
	}
}

// stagedBytes sums the sizes of files that appeared since before.
func stagedBytes(t *testing.T, before, after map[string]fileState) int64 {
	var n int64
	for p, st := range after {
		if _, ok := before[p]; !ok {
			n += st.size
		}
	}
	return n
}

// parallel runs fn(i) for i in [0, n) at once and fails on any error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
