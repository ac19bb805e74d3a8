package cas_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
)

// AsyncHash gives the same digest as hashing in line, whatever the write
// sizes (across buffer boundaries, empty writes), and the caller may
// reuse its buffer at once.
func TestAsyncHashMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5<<20+123)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		a := cas.NewAsyncHash(alg)
		buf := make([]byte, 0, 1<<20)
		for off := 0; off < len(data); {
			n := min(len(data)-off, int(r.Uint32()%(3<<20)))
			buf = append(buf[:0], data[off:off+n]...)
			a.Write(buf)
			for i := range buf {
				buf[i] = 0 // reuse: must not affect the digest
			}
			off += n
		}
		want, err := alg.FromReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Sum(); got != want {
			t.Errorf("%s: async %s, in line %s", alg, got, want)
		}
	}
	a := cas.NewAsyncHash("")
	a.Write([]byte("abc"))
	a.Close() // must not hang or leak
}
