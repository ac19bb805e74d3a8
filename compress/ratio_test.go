package compress_test

import (
	"bytes"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
)

// TestMinSizeIsABound: the most compressible input there is (zeros, one
// repeated byte) compresses to no less than MinSize says, with every
// level, so a plan that refuses on MinSize never refuses what would fit.
func TestMinSizeIsABound(t *testing.T) {
	for _, in := range [][]byte{make([]byte, 8<<20), bytes.Repeat([]byte{'a'}, 3<<20+17)} {
		for _, a := range []compress.Algorithm{compress.Gzip, compress.Zstd} {
			levels := []int{0, 1, 9}
			if a == compress.Zstd {
				levels = append(levels, 19, 22)
			}
			for _, level := range levels {
				out := encode(t, a, compress.Options{Level: level, Concurrency: 2}, in)
				if min := a.MinSize(int64(len(in))); int64(len(out)) < min {
					t.Errorf("%s level %d: %d bytes became %d, below MinSize %d", a, level, len(in), len(out), min)
				}
			}
		}
	}
	if compress.None.MinSize(100) != 100 {
		t.Errorf("none: MinSize(100) = %d", compress.None.MinSize(100))
	}
}
