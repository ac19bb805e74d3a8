//go:build unix

package adversarial

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Own cases, continued: extraction.

// TestO17_OutputIsLayout: OUT a symlink to L, OUT inside L, OUT = L:
// extract refuses to write into the layout.
func TestO17_OutputIsLayout(t *testing.T) {
	t.Parallel()
	w := extractWorld(t, rtest.Good(t))
	os.Symlink(w.L, filepath.Join(w.In, "link"))
	for _, out := range []string{filepath.Join(w.In, "link"), filepath.Join(w.L, "sub"), w.L, filepath.Join(w.L, "blobs", "sha256")} {
		r := w.run(t, "extract", "-q", w.L+":v1", "-o", out)
		t.Logf("-o %s: exit %d: %s", out, r.Code, r.Stderr)
		if r.Code == 0 {
			t.Errorf("extract into %s (the layout) succeeded", out)
		} else {
			rtest.AssertOneErrorLine(t, r.Stderr, "layout")
		}
		w.Snap.AssertUnchanged(t)
	}
	rtest.AssertVerify(t, w.L)
	w.S.AssertIntact(t)
}

// TestO18_IncludeEscape: --include globs that try to leave OUT ("../*",
// "../../secret", "/etc/*", "**/../x") select nothing outside OUT: a
// usage error or no file, never a write or read outside.
func TestO18_IncludeEscape(t *testing.T) {
	t.Parallel()
	for _, glob := range []string{"../*", "../../secret", "/etc/*", "*/../../x", "[", "a.bin/../../x"} {
		t.Run(glob, func(t *testing.T) {
			t.Parallel()
			w := extractWorld(t, rtest.Good(t))
			r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out, "--include", glob)
			t.Logf("exit %d: %s", r.Code, r.Stderr)
			if r.Code != 0 && r.Code != rtest.ExitUsage {
				t.Errorf("--include %q: %v, want exit 0 (nothing selected) or 2", glob, r)
			}
			if r.Code == 0 {
				for _, f := range listTree(t, w.Out) {
					t.Errorf("--include %q wrote %q", glob, f[:min(len(f), 40)])
				}
			}
			w.S.AssertIntact(t)
			w.S.AssertNotLeaked(t, []string{w.Out}, r.Stdout, r.Stderr)
		})
	}
}

// TestO19_TitlesCollide: two layers whose titles clean to one path
// ("a/b", "a/./b", "a//b"), and a file title that is another's parent
// ("a" and "a/b"): refused up front naming both, never "last wins"
// (I10, CVE-2025-62518's class for extraction).
func TestO19_TitlesCollide(t *testing.T) {
	t.Parallel()
	for name, titles := range map[string][2]string{"dot": {"a/b", "a/./b"}, "double-slash": {"a/b", "a//b"}, "parent": {"a", "a/b"}, "trailing-slash": {"a/b", "a/b/"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := withLayers(t, rawLayer("first", map[string]string{rtest.TitleKey: titles[0]}), rawLayer("second", map[string]string{rtest.TitleKey: titles[1]}))
			w := extractWorld(t, f)
			w.extractRejected(t, rtest.ExitIntegrity, "a")
		})
	}
}

// TestO20_TarLayerShape: a tar-directory layer with entries outside its
// title's directory, a file entry twice with different content, a
// character device, a FIFO: refused naming the entry (devices and FIFOs
// are never created), nothing written.
func TestO20_TarLayerShape(t *testing.T) {
	t.Parallel()
	cases := map[string][]rtest.Entry{
		"outside-title": {rtest.Dir("d/"), rtest.Reg("e/x", []byte("x"))},
		"duplicate":     {rtest.Dir("d/"), rtest.Reg("d/x", []byte("one")), rtest.Reg("d/x", []byte("two"))},
		"dup-cleaned":   {rtest.Dir("d/"), rtest.Reg("d/x", []byte("one")), rtest.Reg("d/./x", []byte("two"))},
		"chardev":       {rtest.Dir("d/"), {Hdr: tar.Header{Typeflag: tar.TypeChar, Name: "d/null", Devmajor: 1, Devminor: 3, Mode: 0o666}}},
		"fifo":          {rtest.Dir("d/"), {Hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "d/p", Mode: 0o644}}},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := withLayers(t, func(f *rtest.Fixture) ocispec.Descriptor { return tarLayer(t, f, "d", entries...) })
			w := extractWorld(t, f)
			w.extractRejected(t, rtest.ExitIntegrity, `"d`)
		})
	}
}

// TestO21_SetuidDropped: a tar-directory layer with setuid, setgid and
// sticky files extracts them without those bits.
func TestO21_SetuidDropped(t *testing.T) {
	t.Parallel()
	x := rtest.Reg("d/suid", []byte("#!/bin/sh\n"))
	x.Hdr.Mode = 0o6755
	s := rtest.Reg("d/sticky", []byte("s"))
	s.Hdr.Mode = 0o1777
	f := withLayers(t, func(f *rtest.Fixture) ocispec.Descriptor { return tarLayer(t, f, "d", rtest.Dir("d/"), x, s) })
	w := extractWorld(t, f)
	if r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out); r.Code != 0 {
		t.Fatalf("extract: %v", r)
	}
	for _, n := range []string{"suid", "sticky"} {
		fi, err := os.Stat(filepath.Join(w.Out, "d", n))
		if err != nil || fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 {
			t.Errorf("d/%s extracted with mode %v (%v): setuid/setgid/sticky kept", n, fi.Mode(), err)
		}
	}
}

// TestO22_IndexMembersCollide: an image index whose two members carry the
// same title: refused, not one member written over the other.
func TestO22_IndexMembersCollide(t *testing.T) {
	t.Parallel()
	f := rtest.Good(t)
	a := artifact(t, f, map[string][]byte{"x.bin": []byte("a")})
	b := artifact(t, f, map[string][]byte{"x.bin": []byte("b")})
	for _, d := range []*ocispec.Descriptor{&a, &b} {
		d.Annotations = map[string]string{rtest.TitleKey: "same"}
	}
	f.SetTag(t, "v1", f.PutJSON(t, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specVersion, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{a, b}}))
	w := extractWorld(t, f)
	w.extractRejected(t, rtest.ExitIntegrity, "same")
}

// TestO23_MediaTypeDisagreesWithBlob: the descriptor says +gzip but the
// blob is raw; unpack=true on bytes that are not a tar; the diffID
// annotation not matching the tar: refused naming the layer, nothing
// written under a final name.
func TestO23_MediaTypeDisagreesWithBlob(t *testing.T) {
	t.Parallel()
	tarBody := rtest.Tar(t, rtest.Dir("d/"), rtest.Reg("d/x", []byte("x")))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarBody)
	zw.Close()
	cases := map[string]func(f *rtest.Fixture) ocispec.Descriptor{
		"gzip-says-raw-is": func(f *rtest.Fixture) ocispec.Descriptor {
			return ocispec.Descriptor{MediaType: mediaTypeTar + "+gzip", Digest: f.Put(tarBody), Size: int64(len(tarBody)), Annotations: map[string]string{rtest.TitleKey: "d", annUnpack: "true"}}
		},
		"unpack-not-a-tar": func(f *rtest.Fixture) ocispec.Descriptor {
			b := rtest.Bytes(5000, 3)
			return ocispec.Descriptor{MediaType: mediaTypeTar, Digest: f.Put(b), Size: int64(len(b)), Annotations: map[string]string{rtest.TitleKey: "d", annUnpack: "true"}}
		},
		"diffid-mismatch": func(f *rtest.Fixture) ocispec.Descriptor {
			return ocispec.Descriptor{MediaType: mediaTypeTar + "+gzip", Digest: f.Put(gz.Bytes()), Size: int64(gz.Len()), Annotations: map[string]string{rtest.TitleKey: "d", annUnpack: "true", "io.deis.oras.content.digest": digest.FromString("other").String()}}
		},
	}
	for name, layer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := extractWorld(t, withLayers(t, rawLayer("first", map[string]string{rtest.TitleKey: "first.bin"}), layer))
			w.extractRejected(t, rtest.ExitIntegrity, "layer 1")
		})
	}
}
