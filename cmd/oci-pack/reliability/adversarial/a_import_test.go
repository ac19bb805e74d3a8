package adversarial

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestA01_PathTraversal: entries named ../../x, /etc/x,
// blobs/sha256/../../../x, ./../x, C:\x, ..\x are refused by name (%q),
// nothing is written from an entry name (I7). The command runs in
// in/work, so ../../x would land on the sentinel "x".
func TestA01_PathTraversal(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../../x", "/etc/x", "blobs/sha256/../../../x", "./../x", `C:\x`, `..\x`, "blobs/../../x"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			_, etcBefore := os.Lstat("/etc/x")
			ms := insert(w.Good.Members(t), rtest.Reg(name, []byte(w.S.Secret+" pwned")))
			w.importRejected(t, rtest.Tar(t, ms...), rtest.ExitIntegrity, fmt.Sprintf("%q", name))
			if _, err := os.Lstat("/etc/x"); err == nil && etcBefore != nil {
				t.Errorf("[C] /etc/x was created")
			}
		})
	}
}

// TestA02_LinksDevicesSetuid: index.json as a symlink to /etc/passwd, a
// blob as a hardlink to ../../etc/shadow, a blob as a char device,
// oci-layout as a FIFO: refused by type and name, no link or device is
// created. A setuid-mode blob imports as a plain 0444/0644 file.
func TestA02_LinksDevicesSetuid(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	layer := rtest.BlobName(g.Manifest(t, "v1").Layers[0].Digest)
	cases := []struct {
		name string
		repl string
		e    rtest.Entry
		says []string
	}{
		{"index-symlink", "index.json", rtest.Symlink("index.json", "/etc/passwd"), []string{"unsupported entry type symlink", `"index.json"`}},
		{"blob-hardlink", layer, rtest.Hardlink(layer, "../../etc/shadow"), []string{"hardlink", layer}},
		{"blob-chardev", layer, rtest.Entry{Hdr: tar.Header{Typeflag: tar.TypeChar, Name: layer, Devmajor: 1, Devminor: 3, Mode: 0o644}}, []string{"character device", layer}},
		{"blob-blockdev", layer, rtest.Entry{Hdr: tar.Header{Typeflag: tar.TypeBlock, Name: layer, Devmajor: 8, Devminor: 0, Mode: 0o644}}, []string{"block device", layer}},
		{"oci-layout-fifo", "oci-layout", rtest.Entry{Hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "oci-layout", Mode: 0o644}}, []string{"FIFO", `"oci-layout"`}},
		{"blob-symlink-etc-hostname", layer, rtest.Symlink(layer, "/etc/hostname"), []string{"symlink", layer}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.importRejected(t, rtest.Tar(t, replace(t, w.Good.Members(t), c.repl, c.e)...), rtest.ExitIntegrity, c.says...)
		})
	}
	t.Run("setuid-blob", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ms := w.Good.Members(t)
		e := member(t, ms, layer)
		e.Hdr.Mode = 0o6755 | 0o1000
		p := w.input(t, "suid.tar", rtest.Tar(t, replace(t, ms, layer, e)...))
		if r := w.run(t, "import", "-q", p, w.L); r.Code != 0 {
			t.Fatalf("import of a setuid-mode blob: %v", r)
		}
		fi, err := os.Stat(filepath.Join(w.L, filepath.FromSlash(layer)))
		if err != nil || (fi.Mode() != 0o444 && fi.Mode() != 0o644) {
			t.Errorf("imported blob mode %v (%v), want 0444 or 0644", fi.Mode(), err)
		}
		w.S.AssertIntact(t)
		rtest.AssertVerify(t, w.L)
	})
}

// TestA03_ContentMismatch: a blob whose bytes do not match its name (one
// byte appended, one whitespace prepended, a NUL appended, one bit
// flipped): the whole import fails naming the entry, the content's digest
// and the name's.
func TestA03_ContentMismatch(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	d := g.Manifest(t, "v1").Layers[1].Digest
	layer := rtest.BlobName(d)
	body := g.Blobs[d]
	for name, b := range map[string][]byte{
		"append-x":   append(append([]byte{}, body...), 'x'),
		"prepend-sp": append([]byte{' '}, body...),
		"append-nul": append(append([]byte{}, body...), 0),
		"flip-bit":   append([]byte{body[0] ^ 1}, body[1:]...),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			sum := sha256.Sum256(b)
			w.importRejected(t, rtest.Tar(t, replace(t, w.Good.Members(t), layer, rtest.Reg(layer, b))...), rtest.ExitIntegrity,
				layer, "sha256:"+hex.EncodeToString(sum[:]), d.String())
		})
	}
}

// TestA04_DescriptorSize: a layer listed with size+1, -1, 0 or 2^62, the
// manifest re-hashed and re-linked so every digest is valid: refused
// naming the layer with the descriptor's size and the blob's; no
// preallocation ([M]).
func TestA04_DescriptorSize(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	l1 := g.Manifest(t, "v1").Layers[1]
	for _, c := range []struct {
		size int64
		says []string
	}{
		{l1.Size + 1, []string{l1.Digest.String(), fmt.Sprint(l1.Size + 1), fmt.Sprint(l1.Size)}},
		{-1, []string{"layers[1]", "invalid descriptor size -1"}},
		{0, []string{l1.Digest.String(), "size 0"}},
		{1 << 62, []string{l1.Digest.String(), fmt.Sprint(int64(1 << 62))}},
	} {
		t.Run(fmt.Sprint(c.size), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.EditManifest(t, "v1", func(m *ocispec.Manifest) { m.Layers[1].Size = c.size })
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, c.says...)
		})
	}
}

// TestA05_MalformedDigests: digest strings that are paths or malformed, in
// index.json, in a manifest's layer and as entry names: refused as
// invalid digests (quoted), before any path is built; an unregistered
// but grammatical algorithm is "unsupported", not a crash.
func TestA05_MalformedDigests(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	hexs := g.Manifest(t, "v1").Layers[0].Digest.Encoded()
	bad := []string{"sha256:../../etc/passwd", "sha256:" + strings.ToUpper(hexs), "sha256:" + hexs[:63], "sha256:" + hexs + "0",
		"sha256:" + hexs + "\n", "SHA256:" + hexs, "sha256+b64u:" + hexs, "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:"}
	for _, d := range bad {
		t.Run("index/"+d, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.IndexRaw = fmt.Appendf(nil, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":10,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`, d)
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "digest", fmt.Sprintf("%q", d))
		})
		t.Run("manifest/"+d, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.EditManifest(t, "v1", func(m *ocispec.Manifest) { m.Layers[0].Digest = ocispecDigest(d) })
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "layers[0]", "digest", fmt.Sprintf("%q", d))
		})
	}
	for _, name := range []string{"blobs/sha256/" + strings.ToUpper(hexs), "blobs/sha256/x.tmp", "blobs/sha256/" + hexs[:63], "blobs/md5/d41d8cd98f00b204e9800998ecf8427e"} {
		t.Run("name/"+name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.importRejected(t, rtest.Tar(t, insert(w.Good.Members(t), rtest.Reg(name, []byte("x")))...), rtest.ExitIntegrity, fmt.Sprintf("%q", name))
		})
	}
}

// TestA08_StrictJSON: duplicate keys, case variants, trailing data (the
// Decoder-vs-Unmarshal differential), a BOM, a lone surrogate, invalid
// UTF-8: refused naming index.json and the offset — and the outcome is
// the same for index.json in a directory (verify) as in an archive.
func TestA08_StrictJSON(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	good := string(g.IndexBytes(t))
	entries := good[strings.Index(good, `"manifests":`)+len(`"manifests":`) : strings.LastIndex(good, "]")+1]
	d := g.Tagged(t, "v1").Digest
	for name, body := range map[string]string{
		"duplicate-key":   `{"schemaVersion":2,"manifests":` + entries + `,"manifests":[]}`,
		"case-variant":    `{"schemaVersion":2,"Manifests":[],"manifests":` + entries + `}`,
		"digest-variants": `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d.String() + `","Digest":"sha256:` + strings.Repeat("0", 64) + `","size":1}]}`,
		"trailing-data":   good + `{"manifests":[]}`,
		"bom":             "\xef\xbb\xbf" + good,
		"lone-surrogate":  `{"schemaVersion":2,"manifests":` + entries + `,"annotations":{"x":"\ud800"}}`,
		"invalid-utf8":    `{"schemaVersion":2,"manifests":` + entries + `,"annotations":{"x":"` + "\xff\xfe" + `"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.IndexRaw = []byte(body)
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "index.json", "offset")
			// The same index.json in a directory: verify refuses it too.
			dir := f.WriteDir(t, filepath.Join(w.In, "asdir"))
			rtest.AssertFail(t, w.run(t, "verify", "-q", dir), rtest.ExitIntegrity, "index.json")
		})
	}
}

// TestA09_TruncatedAtBoundary: good.tar cut exactly at every header
// boundary (no end-of-archive marker): refused as truncated or incomplete,
// naming the last entry; with the sidecar beside it, the checksum
// mismatch is reported.
func TestA09_TruncatedAtBoundary(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	full := g.Tar(t)
	for _, k := range headerStarts(t, full) {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			r := w.importRejected(t, full[:k], rtest.ExitIntegrity)
			if !strings.Contains(r.Stderr, "end-of-archive marker") && !strings.Contains(r.Stderr, "index.json missing") {
				t.Errorf("[E] %q says neither \"end-of-archive marker\" nor \"index.json missing\"", r.Stderr)
			}
			if k > 0 && !strings.Contains(r.Stderr, "after entry") {
				t.Errorf("[E] %q does not name the entry it stopped after", r.Stderr)
			}
		})
	}
	t.Run("sidecar", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		starts := headerStarts(t, full)
		p := w.input(t, "cut.tar", full[:starts[len(starts)-2]])
		sum := sha256.Sum256(full)
		w.input(t, "cut.tar.sha256", []byte(hex.EncodeToString(sum[:])+"  cut.tar\n"))
		r := w.run(t, "import", "-q", p, w.L)
		rtest.AssertFail(t, r, rtest.ExitIntegrity, "checksum mismatch", "truncated or corrupted", "cut.tar")
		w.rejected(t, r)
	})
}

// headerStarts are the offsets of every header in a ustar archive (and of
// the end-of-archive marker).
func headerStarts(t testing.TB, a []byte) []int {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(a))
	var out []int
	off := 0
	for {
		hdr, err := tr.Next()
		if err != nil {
			return append(out, off)
		}
		out = append(out, off)
		off += 512 + int((hdr.Size+511)/512*512)
	}
}

// TestA10_TruncatedMidEntry: good.tar cut 777 bytes before its end, and
// its .tar.zst / .tar.gz cut at 70%: refused as truncated (unexpected EOF
// in an entry, with the offset); no staging left.
func TestA10_TruncatedMidEntry(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	// A bigger layer so 70% of the compressed stream falls inside it.
	g.EditManifest(t, "v1", func(m *ocispec.Manifest) {
		big := rtest.Bytes(300_000, 5)
		m.Layers[0].Digest, m.Layers[0].Size = g.Put(big), int64(len(big))
	})
	full := g.Tar(t)
	cases := map[string][]byte{"tar-777": full[:len(full)-777]}
	// Inside the big layer's data (the first blob after oci-layout's
	// entry is the config; find the layer by its size).
	for _, k := range headerStarts(t, full) {
		if k+512+300_000 <= len(full) && bytes.Contains(full[k:k+100], []byte(rtest.BlobName(g.Manifest(t, "v1").Layers[0].Digest))) {
			cases["mid-layer"] = full[:k+512+150_000]
		}
	}
	if cases["mid-layer"] == nil {
		t.Fatal("no layer entry found")
	}
	zs := zstdBytes(t, full)
	cases["zst-70"] = zs[:len(zs)*7/10]
	gz := gzipBytes(t, full)
	cases["gz-70"] = gz[:len(gz)*7/10]
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			r := w.importRejected(t, b, rtest.ExitIntegrity, "truncated")
			if name != "tar-777" && !strings.Contains(r.Stderr, "in entry \"blobs/sha256/") {
				t.Errorf("[E] %q does not name the entry it was cut in", r.Stderr)
			}
		})
	}
}

func zstdBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestA11_DuplicateEntries: index.json and ./index.json with different
// content, a blob twice (the second wrong), blobs//sha256/X: refused as
// duplicates, never "last wins" (image-spec#196, CVE-2025-62518 class).
func TestA11_DuplicateEntries(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	d := g.Manifest(t, "v1").Layers[0].Digest
	layer := rtest.BlobName(d)
	ms := g.Members(t)
	last := len(ms) - 1
	evil := rtest.Reg("./index.json", []byte(`{"schemaVersion":2,"manifests":[]}`))
	cases := map[string]struct {
		ms   []rtest.Entry
		says []string
	}{
		"dot-slash-index": {append(append([]rtest.Entry{}, ms...), evil), []string{"duplicate archive entry", `"./index.json"`, `"index.json"`}},
		"dot-slash-first": {append(append(append([]rtest.Entry{}, ms[:last]...), evil), ms[last]), []string{"duplicate archive entry", `"index.json"`, `"./index.json"`}},
		"blob-twice":      {append(append(append([]rtest.Entry{}, ms[:last]...), rtest.Reg(layer, append([]byte("x"), g.Blobs[d][1:]...))), ms[last]), []string{"duplicate archive entry", layer}},
		"double-slash":    {insert(ms, rtest.Reg("blobs//sha256/"+d.Encoded(), g.Blobs[d])), []string{"duplicate archive entry", "blobs//sha256/" + d.Encoded()}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.importRejected(t, rtest.Tar(t, c.ms...), rtest.ExitIntegrity, c.says...)
		})
	}
}

// TestA12_DuplicateOrConflictingTags: the archive's index.json tags v1
// twice on different digests → refused naming both; the archive's v1
// differs from L's v1 → exit 4 naming the tag and L's digest, index.json
// unchanged; with --tag-conflict overwrite the old digest is printed.
func TestA12_DuplicateOrConflictingTags(t *testing.T) {
	t.Parallel()
	t.Run("inside-archive", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		f := w.Good.Clone(t)
		v1 := f.Tagged(t, "v1")
		other := artifact(t, f, map[string][]byte{"o.bin": []byte("other")})
		other.Annotations = map[string]string{rtest.RefNameKey: "v1"}
		f.Index.Manifests = append(f.Index.Manifests, other)
		w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, `tag "v1"`, v1.Digest.String(), other.Digest.String())
	})
	t.Run("conflict-with-layout", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		f := rtest.Good(t)
		old := artifact(t, f, map[string][]byte{"old.bin": []byte("old v1")})
		f.SetTag(t, "v1", old)
		first := w.input(t, "old.tar", f.Tar(t))
		if r := w.run(t, "import", "-q", first, w.L); r.Code != 0 {
			t.Fatalf("import old v1: %v", r)
		}
		w.Snap = rtest.Snap(t, w.L)
		r := w.run(t, "import", "-q", w.GoodTar, w.L)
		rtest.AssertFail(t, r, rtest.ExitConflict, `tag "v1"`, old.Digest.String(), "--tag-conflict")
		w.Snap.AssertUnchanged(t)
		w.S.AssertIntact(t)
		rtest.AssertVerify(t, w.L)
		r = w.run(t, "import", w.GoodTar, w.L, "--tag-conflict", "overwrite")
		if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, old.Digest.String()) {
			t.Errorf("--tag-conflict overwrite does not print the old digest %s: %v", old.Digest, r)
		}
		if got := w.tagDigest(t, "v1"); got != w.Good.Tagged(t, "v1").Digest.String() {
			t.Errorf("after overwrite v1 is %s", got)
		}
		rtest.AssertVerify(t, w.L)
	})
}

// TestA13_MaliciousTags: ref.name values outside the grammar
// (../../etc/cron.d/x, a/b/../c, "", 10 KB, NUL, newline, leading -):
// refused as an invalid tag, quoted; never used as a file name.
func TestA13_MaliciousTags(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{"../../etc/cron.d/x", "a/b/../c", "", strings.Repeat("a", 10240), "a\x00b", "a\nb", "-lead", "x/../../secret"} {
		t.Run(fmt.Sprintf("%.20q", tag), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.Index.Manifests[0].Annotations[rtest.RefNameKey] = tag
			quoted := fmt.Sprintf("%q", tag)
			if len(quoted) > 30 {
				quoted = quoted[:30]
			}
			r := w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "invalid tag", quoted)
			if strings.Contains(r.Stderr, "\x00") {
				t.Errorf("[E] a raw NUL reached stderr")
			}
		})
	}
}
