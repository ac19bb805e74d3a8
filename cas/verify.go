package cas

import (
	"fmt"
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// VerifyReader passes bytes through while counting and hashing them. It
// never yields more than want.Size bytes: one byte beyond is an
// ErrSizeMismatch (trailing data). At EOF it checks size and digest and
// returns the mismatch instead of io.EOF.
type VerifyReader struct {
	r    io.Reader
	want ocispec.Descriptor
	h    hash.Hash
	n    int64
	err  error
}

// NewVerifyReader wraps r. want.Digest must be valid (see Validate).
func NewVerifyReader(r io.Reader, want ocispec.Descriptor) *VerifyReader {
	v := &VerifyReader{r: r, want: want}
	if err := Validate(want.Digest); err != nil {
		v.err = err
		return v
	}
	if want.Size < 0 {
		v.err = fmt.Errorf("%s: invalid descriptor size %d: %w", want.Digest, want.Size, ErrSizeMismatch)
		return v
	}
	v.h = want.Digest.Algorithm().Hash()
	return v
}

func (v *VerifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	// Allow one byte past the promised size so trailing data is seen.
	if rem := v.want.Size - v.n + 1; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.n > v.want.Size {
		v.err = fmt.Errorf("%s: more than the %d bytes promised: %w", v.want.Digest, v.want.Size, ErrSizeMismatch)
		return n, v.err
	}
	if err == io.EOF {
		if verr := v.Verify(); verr != nil {
			v.err = verr
			return n, verr
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

// Verify reports whether the bytes read so far are exactly want.
func (v *VerifyReader) Verify() error {
	if v.h == nil {
		return v.err
	}
	if v.n != v.want.Size {
		return fmt.Errorf("%s: size %d, expected %d: %w", v.want.Digest, v.n, v.want.Size, ErrSizeMismatch)
	}
	got := digest.NewDigest(v.want.Digest.Algorithm(), v.h)
	if got != v.want.Digest {
		return fmt.Errorf("content is %s (%d bytes), expected %s: %w", got, v.n, v.want.Digest, ErrDigestMismatch)
	}
	return nil
}
