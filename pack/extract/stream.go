package extract

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// budget bounds the bytes one extraction decompresses, across all its
// layers (RELIABILITY F-52): a bomb stops at the bound, not at a full disk.
type budget struct {
	max  int64  // < 0: unbounded
	what string // where max comes from, for messages
	left atomic.Int64
}

func newBudget(max int64, what string) *budget {
	b := &budget{max: max, what: what}
	b.left.Store(max)
	return b
}

// remaining is the limit for the next decompressor (-1: none).
func (b *budget) remaining() int64 {
	if b.max < 0 {
		return -1
	}
	return max(b.left.Load(), 0)
}

func (b *budget) take(n int64) error {
	if b.max < 0 || b.left.Add(-n) >= 0 {
		return nil
	}
	return fmt.Errorf("%w (%d bytes)", compress.ErrTooLarge, b.max)
}

// layerStream reads one layer blob: verified against its descriptor,
// counted for progress, decompressed within the budget, and hashed for its
// diffID when one is known.
type layerStream struct {
	lp   *layerPlan
	bud  *budget
	blob *countingReader // over the verified blob
	zr   io.ReadCloser
	diff hash.Hash // nil when no diffID is known
	r    io.Reader // what the consumer reads; errors come out as streamError
}

// streamError marks an error that came from reading the layer (I/O,
// decompression, digest, budget), as opposed to one about what was read.
type streamError struct{ err error }

func (e streamError) Error() string { return e.err.Error() }
func (e streamError) Unwrap() error { return e.err }

func (x *extraction) openStream(ctx context.Context, lp *layerPlan, tr layout.ProgressItem) (*layerStream, error) {
	blob, err := x.l.Blobs().OpenVerified(ctx, lp.desc)
	if errors.Is(err, cas.ErrNotFound) {
		// Absent from a sparse layout: the missing-blob class, as verify says.
		return nil, fmt.Errorf("%s: %w: %w", lp.who, layout.ErrMissingBlob, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lp.who, err)
	}
	s := &layerStream{lp: lp, bud: x.budget, blob: &countingReader{rc: blob, add: tr.Add}}
	if s.zr, err = compress.NewReader(s.blob, lp.alg, x.budget.remaining()); err != nil {
		ferr := s.fail(streamError{err})
		blob.Close()
		return nil, ferr
	}
	var r io.Reader = budgetReader{r: s.zr, b: x.budget}
	if lp.diffID != "" {
		s.diff = lp.diffID.Algorithm().Hash()
		r = io.TeeReader(r, s.diff)
	}
	s.r = errMarker{r}
	return s, nil
}

func (s *layerStream) close() {
	s.zr.Close()
	s.blob.rc.Close()
}

// finish drains what the consumer left (tar padding, trailing data)
// through the hashes, reads the blob to its end — where its size and
// digest are checked — and compares the diffID.
func (s *layerStream) finish() error {
	if _, err := io.Copy(io.Discard, s.r); err != nil {
		return s.fail(err)
	}
	if _, err := io.Copy(io.Discard, s.blob); err != nil {
		return s.fail(streamError{err})
	}
	if s.diff != nil {
		if got := digest.NewDigest(s.lp.diffID.Algorithm(), s.diff); got != s.lp.diffID {
			return fmt.Errorf("%s: uncompressed content is %s, expected %s: %w", s.lp.who, got, s.lp.diffID, cas.ErrDigestMismatch)
		}
	}
	return nil
}

// fail turns an error met while reading the layer into the most telling
// one. When the stream or tar format broke, the blob is read to its end
// first: if it does not match its digest, that is the real problem (a
// flipped byte often shows up as a gzip or tar error first).
func (s *layerStream) fail(err error) error {
	var se streamError
	broken := errors.As(err, &se) || errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrFieldTooLong)
	if errors.Is(err, compress.ErrTooLarge) {
		return fmt.Errorf("%s: %w: stopped at %s", s.lp.who, err, s.bud.what)
	}
	if !broken || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, cas.ErrDigestMismatch) || errors.Is(err, cas.ErrSizeMismatch) {
		return fmt.Errorf("%s: %w", s.lp.who, err)
	}
	if verr := s.verifyRest(); verr != nil {
		return verr
	}
	return fmt.Errorf("%s (%s): malformed layer: %v: %w", s.lp.who, s.lp.desc.Digest, err, ErrUnsafe)
}

// verifyRest reads the blob to its end and returns its digest or size
// mismatch, or a read error, if any (nil: the blob is intact).
func (s *layerStream) verifyRest() error {
	if s.blob.err == nil {
		_, _ = io.Copy(io.Discard, s.blob) // sets s.blob.err
	}
	switch {
	case s.blob.err == nil:
		return nil
	case errors.Is(s.blob.err, cas.ErrDigestMismatch), errors.Is(s.blob.err, cas.ErrSizeMismatch):
		return fmt.Errorf("%s: %w", s.lp.who, s.blob.err)
	}
	return fmt.Errorf("%s: read blob %s: %w", s.lp.who, s.lp.desc.Digest, s.blob.err)
}

// countingReader reports bytes read for progress and keeps the first
// error other than EOF.
type countingReader struct {
	rc  io.ReadCloser
	add func(int64)
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.add(int64(n))
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

type budgetReader struct {
	r io.Reader
	b *budget
}

func (b budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if terr := b.b.take(int64(n)); terr != nil {
		return n, terr
	}
	return n, err
}

// errMarker wraps every error but EOF in streamError.
type errMarker struct{ r io.Reader }

func (m errMarker) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		err = streamError{err}
	}
	return n, err
}
