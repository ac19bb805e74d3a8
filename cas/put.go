package cas

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Put stores everything r yields as one blob, verified against expected when
// it carries a digest. If expected names a blob that is already stored (a
// regular file of the right size) r is not read at all and Reused is set.
func (s *Store) Put(ctx context.Context, r io.Reader, expected ocispec.Descriptor) (Result, error) {
	if expected.Digest != "" {
		if err := Validate(expected.Digest); err != nil {
			return Result{}, err
		}
		if ok, err := s.Has(ctx, expected); err != nil {
			return Result{}, err
		} else if ok {
			return Result{Descriptor: expected, Reused: true}, nil
		}
	}
	w, err := s.Writer(ctx, expected)
	if err != nil {
		return Result{}, err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return Result{}, err
	}
	res, err := w.Commit(ctx)
	if err != nil {
		return Result{}, err
	}
	if expected.Digest != "" {
		res.Descriptor = expected
	}
	return res, nil
}
