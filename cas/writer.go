package cas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// Writer stages one blob. It hashes every byte it writes; Commit verifies
// and publishes the blob atomically, Abort discards it. Exactly one of them
// must be called; both are idempotent after the first.
type Writer struct {
	s        *Store
	expected ocispec.Descriptor // zero Digest: unknown
	alg      digest.Algorithm
	tmp      string // staging path relative to the store root
	f        *os.File
	wb       fsx.WritebackFile // writes to f
	h        hash.Hash
	n        int64
	done     bool
	// resumable writers stage into a file the caller keeps across
	// processes (ResumeWriter): Checkpoint and Suspend apply.
	resumable bool
}

// Result is what Commit did.
type Result struct {
	Descriptor ocispec.Descriptor // MediaType copied from expected
	Reused     bool               // the blob was already stored; nothing was published
	// Repaired: a corrupt copy was stored under the name and these
	// verified bytes replaced it (see Check).
	Repaired bool
}

// Writer starts staging a blob. expected may carry a digest and size the
// bytes must match (import) or be zero (pack: the digest is computed). With
// an expected size, writing past it fails at once with ErrSizeMismatch, so
// disk use never exceeds what the descriptor promised.
func (s *Store) Writer(ctx context.Context, expected ocispec.Descriptor) (*Writer, error) {
	if s.staging == "" {
		return nil, errors.New("blob store is read-only")
	}
	alg := digest.Canonical
	if expected.Digest != "" {
		if err := Validate(expected.Digest); err != nil {
			return nil, err
		}
		if expected.Size < 0 {
			return nil, fmt.Errorf("%s: invalid descriptor size %d: %w", expected.Digest, expected.Size, ErrSizeMismatch)
		}
		alg = expected.Digest.Algorithm()
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(s.staging, "blob-"+hex.EncodeToString(rnd[:]))
	f, err := s.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create staging file: %w", err)
	}
	return &Writer{s: s, expected: expected, alg: alg, tmp: tmp, f: f, wb: fsx.WritebackFile{F: f}, h: alg.Hash()}, nil
}

// Write stages p, hashing it.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrAborted
	}
	if w.expected.Digest != "" && w.n+int64(len(p)) > w.expected.Size {
		return 0, fmt.Errorf("%s: more than the %d bytes promised: %w", w.expected.Digest, w.expected.Size, ErrSizeMismatch)
	}
	n, err := w.wb.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("write staging file: %w", err)
	}
	return n, nil
}

// Size is the number of bytes staged so far.
func (w *Writer) Size() int64 { return w.n }

// Digest is the digest of the bytes staged so far.
func (w *Writer) Digest() digest.Digest { return digest.NewDigest(w.alg, w.h) }

// Commit verifies the staged bytes against the expected descriptor (if
// any), fsyncs them, and renames them to blobs/<alg>/<hex>, fsyncing the
// directory after (I1). If a trusted copy is already stored (Check: verified
// since it last changed, re-hashed if not), the staged copy is dropped and
// Result.Reused is set; a corrupt one is replaced by the verified staged
// bytes — the only rename over a blob — and Result.Repaired is set. A nil
// error means the blob is durably stored.
func (w *Writer) Commit(ctx context.Context) (Result, error) {
	if w.done {
		return Result{}, ErrAborted
	}
	desc := ocispec.Descriptor{MediaType: w.expected.MediaType, Digest: w.Digest(), Size: w.n}
	if w.expected.Digest != "" {
		if w.n != w.expected.Size {
			w.Abort()
			return Result{}, fmt.Errorf("%s: size %d, expected %d: %w", w.expected.Digest, w.n, w.expected.Size, ErrSizeMismatch)
		}
		if desc.Digest != w.expected.Digest {
			w.Abort()
			return Result{}, fmt.Errorf("content is %s (%d bytes), expected %s: %w", desc.Digest, w.n, w.expected.Digest, ErrDigestMismatch)
		}
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return Result{}, err
	}
	prior, err := w.s.Check(ctx, desc.Digest)
	if err != nil && ctx.Err() != nil {
		w.Abort()
		return Result{}, ctx.Err()
	}
	if err == nil && prior.State == Trusted && prior.Size == desc.Size {
		w.Abort()
		return Result{Descriptor: desc, Reused: true}, nil
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return Result{}, fmt.Errorf("fsync staged blob %s: %w", desc.Digest, err)
	}
	if err := w.f.Chmod(0o644); err != nil {
		w.Abort()
		return Result{}, fmt.Errorf("chmod staged blob: %w", err)
	}
	staged, err := w.f.Stat()
	if err != nil {
		w.Abort()
		return Result{}, fmt.Errorf("stat staged blob %s: %w", desc.Digest, err)
	}
	if err := w.f.Close(); err != nil {
		w.f = nil
		w.Abort()
		return Result{}, fmt.Errorf("close staged blob %s: %w", desc.Digest, err)
	}
	w.f = nil
	final, _ := BlobPath(desc.Digest) // digest computed by us: valid
	dir := path.Dir(final)
	if err := w.s.ensureDir(dir); err != nil {
		w.Abort()
		return Result{}, err
	}
	if err := w.s.root.Rename(w.tmp, final); err != nil {
		w.Abort()
		return Result{}, fmt.Errorf("commit blob %s: %w", desc.Digest, err)
	}
	w.done = true
	if err := fsx.SyncDir(w.s.root, dir); err != nil {
		return Result{}, fmt.Errorf("fsync %s after committing %s: %w", dir, desc.Digest, err)
	}
	return Result{Descriptor: desc, Repaired: w.s.published(desc.Digest, staged, prior)}, nil
}

// Abort removes the staged file. It is safe to call at any time, any number
// of times, and after Commit (then it does nothing).
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if err := w.s.root.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove staging file: %w", err)
	}
	return nil
}

// ensureDir creates blobs/<alg> (and blobs) if missing, fsyncing each
// parent whose entries changed.
func (s *Store) ensureDir(dir string) error {
	fi, err := s.root.Lstat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory (%s)", dir, fsx.FileKind(fi.Mode()))
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := path.Dir(dir)
	if parent != "." {
		if err := s.ensureDir(parent); err != nil {
			return err
		}
	}
	if err := s.root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return fsx.SyncDir(s.root, parent)
}
