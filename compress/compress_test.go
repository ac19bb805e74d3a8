package compress_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/pack/packtest"
)

func encode(t *testing.T, a compress.Algorithm, o compress.Options, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := compress.NewWriter(&buf, a, o)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes: output must not depend on how the input was cut.
	for len(b) > 0 {
		n := min(len(b), 77_777)
		if _, err := w.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(t *testing.T, a compress.Algorithm, z []byte, limit int64) ([]byte, error) {
	t.Helper()
	r, err := compress.NewReader(bytes.NewReader(z), a, limit)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	in := append(packtest.BF16(7, 3<<20), packtest.Text(7, 200_000)...)
	for _, c := range []struct {
		a      compress.Algorithm
		levels []int
	}{
		{compress.None, []int{0}},
		{compress.Gzip, []int{0, 1, 9, -2, compress.LevelStore}},
		{compress.Zstd, []int{0, 1, 19}},
	} {
		for _, lv := range c.levels {
			z := encode(t, c.a, compress.Options{Level: lv, Concurrency: 2}, in)
			if got := compress.Sniff(z); got != c.a {
				t.Errorf("%s level %d: Sniff = %s", c.a, lv, got)
			}
			out, err := decode(t, c.a, z, int64(len(in)))
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("%s level %d: round trip %d bytes, %v", c.a, lv, len(out), err)
			}
		}
	}
}

// TestOutputIndependentOfConcurrency: the same input and level give the
// same bytes whatever the concurrency (DESIGN 3: digests must not depend
// on --jobs).
func TestOutputIndependentOfConcurrency(t *testing.T) {
	in := packtest.BF16(8, 9<<20+5) // several pgzip blocks, three zstd windows
	for _, a := range []compress.Algorithm{compress.Gzip, compress.Zstd} {
		for _, lv := range []int{0, -2} {
			if a == compress.Zstd && lv < 0 {
				continue
			}
			want := encode(t, a, compress.Options{Level: lv, Concurrency: 1}, in)
			for _, c := range []int{0, 2, 3, 8} {
				if got := encode(t, a, compress.Options{Level: lv, Concurrency: c}, in); !bytes.Equal(got, want) {
					t.Errorf("%s level %d: concurrency %d gives %d bytes, concurrency 1 gives %d (different output)", a, lv, c, len(got), len(want))
				}
			}
		}
	}
}

// TestWeightsCompress pins the measured facts DESIGN 3 relies on: with the
// encoders as configured, bf16-like weights do compress.
func TestWeightsCompress(t *testing.T) {
	in := packtest.BF16(9, 4<<20)
	for _, c := range []struct {
		a  compress.Algorithm
		lv int
	}{{compress.Zstd, 0}, {compress.Gzip, -2}} {
		z := encode(t, c.a, compress.Options{Level: c.lv, Concurrency: 2}, in)
		if ratio := float64(len(z)) / float64(len(in)); ratio > 0.85 {
			t.Errorf("%s level %d stores bf16 weights at ratio %.3f, want < 0.85", c.a, c.lv, ratio)
		}
	}
}

func TestBoundedReader(t *testing.T) {
	bomb := make([]byte, 32<<20) // zeros: compresses about 1000:1
	for _, a := range []compress.Algorithm{compress.None, compress.Gzip, compress.Zstd} {
		z := encode(t, a, compress.Options{Concurrency: 2}, bomb)
		if out, err := decode(t, a, z, int64(len(bomb))); err != nil || len(out) != len(bomb) {
			t.Errorf("%s: exactly the limit: %d bytes, %v", a, len(out), err)
		}
		out, err := decode(t, a, z, 1<<20)
		if !errors.Is(err, compress.ErrTooLarge) || len(out) != 1<<20 {
			t.Errorf("%s: %d bytes past a 1 MiB limit, %v; want exactly 1 MiB then ErrTooLarge", a, len(out), err)
		}
		if _, err := decode(t, a, z, -1); err != nil {
			t.Errorf("%s: unbounded: %v", a, err)
		}
	}
}

func TestCorruptInput(t *testing.T) {
	in := packtest.Text(1, 100_000)
	for _, a := range []compress.Algorithm{compress.Gzip, compress.Zstd} {
		z := encode(t, a, compress.Options{}, in)
		if _, err := decode(t, a, z[:len(z)*2/3], -1); err == nil {
			t.Errorf("%s: a stream cut at 2/3 decoded without error", a)
		}
		bad := bytes.Clone(z)
		bad[len(bad)/2] ^= 0xff
		if out, err := decode(t, a, bad, -1); err == nil && bytes.Equal(out, in) {
			t.Errorf("%s: a flipped byte went unnoticed", a)
		}
	}
}

func TestParseAndMediaTypes(t *testing.T) {
	for _, s := range []string{"none", "gzip", "zstd"} {
		if a, err := compress.Parse(s); err != nil || string(a) != s {
			t.Errorf("Parse(%q) = %q, %v", s, a, err)
		}
	}
	if _, err := compress.Parse("lz4"); err == nil {
		t.Error("Parse(lz4) succeeded")
	}
	for mt, want := range map[string]struct {
		base string
		a    compress.Algorithm
	}{
		"application/vnd.oci.image.layer.v1.tar+zstd":       {"application/vnd.oci.image.layer.v1.tar", compress.Zstd},
		"application/vnd.oci.image.layer.v1.tar+gzip":       {"application/vnd.oci.image.layer.v1.tar", compress.Gzip},
		"application/vnd.docker.image.rootfs.diff.tar.gzip": {"application/vnd.docker.image.rootfs.diff.tar", compress.Gzip},
		"application/vnd.oci.image.layer.v1.tar":            {"application/vnd.oci.image.layer.v1.tar", compress.None},
		"application/vnd.cncf.model.weight.v1.raw":          {"application/vnd.cncf.model.weight.v1.raw", compress.None},
	} {
		if base, a := compress.FromMediaType(mt); base != want.base || a != want.a {
			t.Errorf("FromMediaType(%q) = %q, %s", mt, base, a)
		}
	}
	if compress.Gzip.MediaSuffix() != "+gzip" || compress.None.MediaSuffix() != "" {
		t.Error("MediaSuffix")
	}
	for _, bad := range []struct {
		a  compress.Algorithm
		lv int
	}{{compress.Zstd, 23}, {compress.Zstd, -2}, {compress.Gzip, 10}, {compress.Gzip, -1}} {
		if err := bad.a.CheckLevel(bad.lv); err == nil {
			t.Errorf("CheckLevel(%s, %d) accepted", bad.a, bad.lv)
		}
		if _, err := compress.NewWriter(io.Discard, bad.a, compress.Options{Level: bad.lv}); err == nil {
			t.Errorf("NewWriter(%s, level %d) accepted", bad.a, bad.lv)
		}
	}
	if compress.Sniff([]byte{0x1f}) != compress.None || compress.Sniff(nil) != compress.None {
		t.Error("Sniff of a short header")
	}
}
