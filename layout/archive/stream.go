package archive

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/compress"
)

// tarStream is the (decompressed) archive as the tar reader reads it. It
// counts the offset, which the end-of-archive check and messages use; it
// stops on cancellation; and it enforces the budget: the stream may run
// limit bytes, and the importer raises limit by the size of every entry
// whose blob the layout already holds (those bytes are read and dropped,
// never written). tarStream is not an io.Seeker, so archive/tar reads
// every byte through it and the offset is exact.
type tarStream struct {
	ctx    context.Context
	r      io.Reader
	off    int64
	limit  int64
	budget string // how the budget was set, for messages
	over   error  // the sentinel going over it wraps: ErrTooLarge or ErrNoSpace
	// tail holds the last block of bytes read: right after tar's Next, the
	// raw header of the entry it returned (see checkPAXSize).
	tail [blockSize]byte
}

func (s *tarStream) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	// Read one byte past the limit so that going over is seen.
	if rem := s.limit - s.off + 1; int64(len(p)) > rem {
		p = p[:max(rem, 0)]
	}
	n, err := s.r.Read(p)
	s.off += int64(n)
	if n >= blockSize {
		copy(s.tail[:], p[n-blockSize:n])
	} else {
		copy(s.tail[:], s.tail[n:])
		copy(s.tail[blockSize-n:], p[:n])
	}
	if s.off > s.limit {
		return n, fmt.Errorf("archive expands beyond limit (more than %d bytes, %s): %w", s.limit, s.budget, s.over)
	}
	return n, err
}

// left is how many more bytes the stream may run.
func (s *tarStream) left() int64 { return s.limit - s.off }

// decoder wraps a decompressor so its failures say what they are: a
// stream cut short is truncation, anything else is corruption.
type decoder struct {
	alg compress.Algorithm
	rc  io.ReadCloser
	off int64 // compressed bytes are not counted; this is decoded output
}

func (d *decoder) Read(p []byte) (int, error) {
	n, err := d.rc.Read(p)
	d.off += int64(n)
	var input *inputError
	switch {
	case errors.As(err, &input):
		return n, err
	case err == nil, err == io.EOF, errors.Is(err, context.Canceled), errors.Is(err, ErrChecksum):
		return n, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, fmt.Errorf("%s stream ends early after %d decompressed bytes (file truncated?): %w", d.alg, d.off, ErrTruncated)
	}
	return n, fmt.Errorf("%s stream corrupt after %d decompressed bytes: %v: %w", d.alg, d.off, err, ErrInvalid)
}

func (d *decoder) Close() error { return d.rc.Close() }
