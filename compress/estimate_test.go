package compress_test

import (
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/pack/packtest"
)

func samples(b []byte) [][]byte {
	const w = 64 << 10
	return [][]byte{b[:w], b[len(b)/2 : len(b)/2+w], b[len(b)-w:]}
}

// TestChooseGzipLevel: random bytes are stored, bf16 weights get
// Huffman-only, text gets level 6; tiny or empty samples get 6.
func TestChooseGzipLevel(t *testing.T) {
	cases := []struct {
		name string
		s    [][]byte
		want int
	}{
		{"random", samples(packtest.Random(1, 1<<20)), compress.LevelStore},
		{"bf16", samples(packtest.BF16(1, 1<<20)), -2},
		{"text", samples(packtest.Text(1, 1<<20)), 6},
		{"empty", nil, 6},
		{"tiny random", [][]byte{packtest.Random(1, 100)}, 6},
	}
	for _, c := range cases {
		if got := compress.ChooseGzipLevel(c.s); got != c.want {
			t.Errorf("%s: ChooseGzipLevel = %d, want %d", c.name, got, c.want)
		}
		if again := compress.ChooseGzipLevel(c.s); again != compress.ChooseGzipLevel(c.s) {
			t.Errorf("%s: not deterministic", c.name)
		}
	}
	if compress.Worthwhile(samples(packtest.Random(2, 1<<20))) || !compress.Worthwhile(samples(packtest.BF16(2, 1<<20))) {
		t.Error("Worthwhile disagrees with ChooseGzipLevel")
	}
}
