package cas_test

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fuzztest"
	"github.com/oci-pack/oci-pack/cas/testsuite"
)

// hexLen is the encoded length of each digest algorithm cas accepts.
var hexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// FuzzParseDigest (RELIABILITY I2, A-5): ParseDigest, Validate and
// BlobPath never panic and agree; they accept exactly
// "<sha256|sha384|sha512>:<lowercase hex of the exact length>" (checked
// against a grammar written here, not go-digest's); an accepted digest's
// path is blobs/<alg>/<hex>, clean, local, three components; a rejected
// one's error wraps ErrInvalidDigest and quotes the input.
func FuzzParseDigest(f *testing.F) {
	x := digest.FromString("x")
	fuzztest.Seed(f, "sha256", x.String())
	fuzztest.Seed(f, "sha384", digest.SHA384.FromString("x").String())
	fuzztest.Seed(f, "sha512", digest.SHA512.FromString("x").String())
	for i, s := range testsuite.InvalidDigests() {
		fuzztest.Seed(f, fmt.Sprintf("invalid-%02d", i), s)
	}
	for name, s := range map[string]string{
		"a5-passwd":      "sha256:../../etc/passwd",
		"a5-blake3":      "blake3:" + x.Encoded(),
		"a5-alg-sep":     "sha256+b64:" + x.Encoded(),
		"a5-colon-twice": "sha256:" + x.Encoded()[:32] + ":" + x.Encoded()[33:],
		"a5-slash-alg":   "sha/256:" + x.Encoded(),
		"a5-nul":         "sha256:" + x.Encoded()[:63] + "\x00",
		"a5-fullwidth":   "sha256:" + x.Encoded()[:62] + "ａ",
	} {
		fuzztest.Seed(f, name, s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := cas.ParseDigest(s)
		verr := cas.Validate(digest.Digest(s))
		p, perr := cas.BlobPath(digest.Digest(s))
		if (err == nil) != (verr == nil) || (err == nil) != (perr == nil) {
			t.Fatalf("%q: ParseDigest %v, Validate %v, BlobPath %v: they disagree", s, err, verr, perr)
		}
		want := grammatical(s)
		if err != nil {
			if want {
				t.Fatalf("ParseDigest(%q) rejected a well-formed digest: %v", s, err)
			}
			for _, e := range []error{err, verr, perr} {
				if !errors.Is(e, cas.ErrInvalidDigest) || !strings.Contains(e.Error(), fmt.Sprintf("%q", s)) {
					t.Fatalf("error for %q is %q: want ErrInvalidDigest quoting the input", s, e)
				}
			}
			return
		}
		if !want {
			t.Fatalf("ParseDigest accepted %q, outside <sha256|sha384|sha512>:<lowercase hex>", s)
		}
		if d.String() != s {
			t.Fatalf("ParseDigest(%q) = %q", s, d)
		}
		alg, enc, _ := strings.Cut(s, ":")
		if wantPath := "blobs/" + alg + "/" + enc; p != wantPath {
			t.Fatalf("BlobPath(%q) = %q, want %q", s, p, wantPath)
		}
		if path.Clean(p) != p || strings.Count(p, "/") != 2 || strings.Contains(p, "..") || !filepath.IsLocal(filepath.FromSlash(p)) {
			t.Fatalf("BlobPath(%q) = %q: not a clean local blobs/<alg>/<hex> path", s, p)
		}
	})
}

// grammatical is the accepted digest grammar, written independently of
// go-digest.
func grammatical(s string) bool {
	alg, enc, ok := strings.Cut(s, ":")
	if n, known := hexLen[alg]; !ok || !known || len(enc) != n {
		return false
	}
	for _, c := range []byte(enc) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
