//go:build unix

package adversarial

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Cases of our own (the O series), drawn from the CVE history
// RELIABILITY.md cites and from the corners of the formats. This file:
// import and archive structure.

// rawDoc stores a JSON document given as text and tags it v1 with
// descriptor media type mt.
func rawDoc(t testing.TB, f *rtest.Fixture, mt, doc string) ocispec.Descriptor {
	t.Helper()
	d := ocispec.Descriptor{MediaType: mt, Digest: f.Put([]byte(doc)), Size: int64(len(doc))}
	f.SetTag(t, "v1", d)
	return d
}

const emptyCfg = `{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}`

// TestO01_ManifestAndIndex: a document with both layers and manifests
// (I10: both manifest and index) is refused, whichever media type the
// descriptor claims.
func TestO01_ManifestAndIndex(t *testing.T) {
	t.Parallel()
	for _, mt := range []string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex} {
		t.Run(mt[strings.LastIndex(mt, ".")+1:], func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			m := f.Tagged(t, "v1")
			doc := fmt.Sprintf(`{"schemaVersion":2,"config":%s,"layers":[],"manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`, emptyCfg, m.MediaType, m.Digest, m.Size)
			rawDoc(t, f, mt, doc)
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "both manifests and config/layers")
		})
	}
}

// TestO02_MediaTypeConfusion: CVE-2021-41190 — the descriptor says index
// but the blob is a manifest; the document's own mediaType says index but
// it has layers; the descriptor says manifest but the document's
// mediaType says index. All refused, none resolved by guessing.
func TestO02_MediaTypeConfusion(t *testing.T) {
	t.Parallel()
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[]}`, emptyCfg)
	cases := map[string]struct{ mt, doc, says string }{
		"descriptor-index-blob-manifest": {ocispec.MediaTypeImageIndex, manifest, "descriptor says"},
		"doc-index-with-layers":          {ocispec.MediaTypeImageManifest, fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":%s,"layers":[]}`, emptyCfg), "mediaType"},
		"doc-says-index-desc-manifest":   {ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, "mediaType"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			rawDoc(t, f, c.mt, c.doc)
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, c.says)
		})
	}
}

// TestO03_IndexEntryIsConfig: index.json points (as a manifest) at the
// config blob {"name":"good"}: refused as not a manifest.
func TestO03_IndexEntryIsConfig(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	f := w.Good.Clone(t)
	cfg := f.Manifest(t, "v1").Config
	f.SetTag(t, "v1", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: cfg.Digest, Size: cfg.Size})
	w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, cfg.Digest.String(), "schemaVersion")
}

// TestO04_DanglingSubjectAndSelfReference: a true referrer loop (A's
// subject is B, B's is A) cannot be built — each digest would have to
// contain the other — so the nearest cases: a referrer whose subject is
// absent (the spec allows referrers before their subject) imports, and an
// index listing itself is impossible for the same reason; an index that
// lists the same manifest twice imports once.
func TestO04_DanglingSubjectAndSelfReference(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	f := w.Good.Clone(t)
	v1 := f.Tagged(t, "v1")
	absent := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("never stored"), Size: 100}
	f.EditManifest(t, "v1", func(m *ocispec.Manifest) { m.Subject = &absent })
	idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"digest":%q,"size":%d},{"mediaType":%q,"digest":%q,"size":%d}]}`,
		v1.MediaType, f.Tagged(t, "v1").Digest, f.Tagged(t, "v1").Size, v1.MediaType, f.Tagged(t, "v1").Digest, f.Tagged(t, "v1").Size)
	d := f.Put([]byte(idx))
	f.Index.Manifests = append(f.Index.Manifests, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: d, Size: int64(len(idx)), Annotations: map[string]string{rtest.RefNameKey: "twice"}})
	p := w.input(t, "dangling.tar", f.Tar(t))
	r := w.run(t, "import", "-q", p, w.L)
	if r.Code != 0 {
		t.Fatalf("a referrer with an absent subject and an index listing one manifest twice: %v", r)
	}
	rtest.AssertVerify(t, w.L)
	if tags := tags(t, w.L); tags["twice"] != d.String() || tags["v1"] != f.Tagged(t, "v1").Digest.String() {
		t.Errorf("tags after import: %v", tags)
	}
}

// chain is f with tag v1 on a chain of n nested indexes over good/'s
// manifest (depth n+1 to the layers).
func chain(t testing.TB, n int) *rtest.Fixture {
	f := rtest.Good(t)
	d := f.Tagged(t, "v1")
	d.Annotations = nil
	for range n {
		d = f.PutJSON(t, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specVersion, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{d}})
	}
	f.SetTag(t, "v1", d)
	return f
}

var specVersion = ocispec.Index{}.Versioned

func init() { specVersion.SchemaVersion = 2 }

// TestO05_GraphDepth: indexes nested 33 deep are refused by the depth
// budget (32) on import and on verify; 30 deep import.
func TestO05_GraphDepth(t *testing.T) {
	t.Parallel()
	t.Run("33", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		f := chain(t, 33)
		w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "deeper than 32")
		dir := f.WriteDir(t, filepath.Join(w.In, "deep"))
		assertVerifyFails(t, w.run(t, "verify", dir), "deeper than 32")
	})
	t.Run("30", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		p := w.input(t, "ok.tar", chain(t, 30).Tar(t))
		if r := w.run(t, "import", "-q", p, w.L); r.Code != 0 {
			t.Errorf("30 nested indexes: %v", r)
		}
		rtest.AssertVerify(t, w.L)
	})
}

// TestO06_GNULongNameOutside: a GNU long-name ('L') entry whose name
// leaves the archive (../../ + 120 bytes) is refused by name; the name
// arrives only through the GNU extension.
func TestO06_GNULongNameOutside(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	name := "../../" + strings.Repeat("x", 120)
	e := rtest.Reg(name, []byte(w.S.Secret))
	e.Hdr.Format = tar.FormatGNU
	w.importRejected(t, rtest.Tar(t, insert(w.Good.Members(t), e)...), rtest.ExitIntegrity, `"../../xxxx`, "path traversal")
}

// TestO07_SparseEntries: a blob stored as a GNU sparse file ('S') or with
// PAX GNU.sparse records is refused: holes would make the bytes read
// differ between tar readers.
func TestO07_SparseEntries(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	d := g.Manifest(t, "v1").Layers[0].Digest
	layer := rtest.BlobName(d)
	gnu := append(rtest.UstarHeader(tar.Header{Typeflag: tar.TypeReg, Name: layer, Mode: 0o644}, int64(len(g.Blobs[d]))), rtest.Pad(g.Blobs[d])...)
	gnu[156] = tar.TypeGNUSparse
	rtest.Rechecksum(gnu)
	pax := append(rtest.PAXBlock(map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": layer, "GNU.sparse.realsize": fmt.Sprint(len(g.Blobs[d]))}),
		append(rtest.UstarHeader(tar.Header{Typeflag: tar.TypeReg, Name: "GNUSparseFile.0/x", Mode: 0o644}, int64(len(g.Blobs[d]))), rtest.Pad(g.Blobs[d])...)...)
	for name, raw := range map[string][]byte{"gnu-S": gnu, "pax-1.0": pax} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			r := w.importRejected(t, rtest.Tar(t, replace(t, w.Good.Members(t), layer, rtest.Raw(raw))...), rtest.ExitIntegrity)
			if !strings.Contains(r.Stderr, "sparse") && !strings.Contains(r.Stderr, "invalid tar header") {
				t.Errorf("[E] %q does not say the entry is sparse", r.Stderr)
			}
		})
	}
}

// splitExport exports good/ (with a bigger layer) in volumes of 8 KiB and
// returns the volumes' paths and the sidecar's.
func splitExport(t *testing.T, w *world) ([]string, string) {
	t.Helper()
	f := rtest.Good(t)
	f.SetTag(t, "big", artifact(t, f, map[string][]byte{"big.bin": rtest.Bytes(20_000, 7)}))
	src := f.WriteDir(t, filepath.Join(w.In, "src"))
	x := filepath.Join(w.In, "x.tar")
	if r := w.run(t, "export", "-q", src, "-o", x, "--split-size", "8KiB"); r.Code != 0 {
		t.Fatalf("export --split-size: %v", r)
	}
	vols, _ := filepath.Glob(x + ".0*")
	if len(vols) < 3 {
		t.Fatalf("want at least 3 volumes, got %v", vols)
	}
	return vols, x + ".sha256"
}

// TestO08_Volumes: a volume set with the middle volume missing, a
// sidecar listing a volume that is not there or not listing one that is,
// a volume swapped for another of the same size, and a malformed sidecar:
// all refused as integrity errors before any tag changes. (Volumes given
// in the wrong order are a usage error: TestO08_VolumesOutOfOrder.)
func TestO08_Volumes(t *testing.T) {
	t.Parallel()
	type vcase struct {
		name  string
		setup func(t *testing.T, vols []string, sidecar string) []string // returns the import arguments
		says  []string
	}
	cases := []vcase{
		{"missing-middle", func(t *testing.T, vols []string, sc string) []string { os.Remove(vols[1]); return vols[:1] }, []string{vols1(".001")}},
		{"missing-middle-no-sidecar", func(t *testing.T, vols []string, sc string) []string {
			os.Remove(vols[1])
			os.Remove(sc)
			return vols[:1]
		}, []string{}},
		{"sidecar-lists-extra", func(t *testing.T, vols []string, sc string) []string {
			appendFile(t, sc, strings.Repeat("0", 64)+"  x.tar.999\n")
			return vols[:1]
		}, []string{"x.tar.999"}},
		{"sidecar-omits-one", func(t *testing.T, vols []string, sc string) []string {
			b, _ := os.ReadFile(sc)
			lines := strings.SplitAfter(string(b), "\n")
			os.WriteFile(sc, []byte(strings.Join(append(lines[:1], lines[2:]...), "")), 0o644)
			return vols[:1]
		}, []string{"not listed"}},
		{"swapped-content", func(t *testing.T, vols []string, sc string) []string {
			b, _ := os.ReadFile(vols[1])
			b[len(b)/2] ^= 0xff
			os.WriteFile(vols[1], b, 0o644)
			return vols[:1]
		}, []string{"checksum mismatch", vols1(".001")}},
		{"sidecar-garbage", func(t *testing.T, vols []string, sc string) []string {
			os.WriteFile(sc, []byte("not a checksum file\n"), 0o644)
			return vols[:1]
		}, []string{"x.tar.sha256", "line 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			vols, sc := splitExport(t, w)
			args := c.setup(t, vols, sc)
			r := w.run(t, append(append([]string{"import", "-q"}, args...), w.L)...)
			t.Logf("exit %d: %s", r.Code, r.Stderr)
			rtest.AssertFail(t, r, rtest.ExitIntegrity, c.says...)
			w.rejected(t, r)
		})
	}
}

// vols1 is the base name of volume ext of x.tar.
func vols1(ext string) string { return "x.tar" + ext }

func appendFile(t testing.TB, p, s string) {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

// TestO09_IndexTwiceAcrossVolumes: a valid-looking archive whose
// index.json arrives twice — once in the first volume, once (different)
// at the end of the last — with a matching sidecar: refused as a
// duplicate entry, not "last wins".
func TestO09_IndexTwiceAcrossVolumes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	f := w.Good.Clone(t)
	ms := f.Members(t)
	evil := rtest.Reg("index.json", []byte(`{"schemaVersion":2,"manifests":[]}`))
	a := rtest.Tar(t, append([]rtest.Entry{ms[0], evil}, ms[1:]...)...)
	half := len(a) / 1024 * 512
	var sums strings.Builder
	var vols []string
	for i, part := range [][]byte{a[:half], a[half:]} {
		p := w.input(t, fmt.Sprintf("y.tar.%03d", i), part)
		sum := sha256.Sum256(part)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(p))
		vols = append(vols, p)
	}
	w.input(t, "y.tar.sha256", []byte(sums.String()))
	r := w.run(t, "import", "-q", vols[0], w.L)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, `duplicate archive entry "index.json"`)
	w.rejected(t, r)
}

// TestO10_PAXUstarSizeDisagree: I10 — a PAX header saying size N for a
// blob whose ustar header says N+512. Go's reader takes the PAX size (and
// the blob verifies); another reader taking the ustar size reads
// different bytes. Ambiguous input must be refused, not resolved.
func TestO10_PAXUstarSizeDisagree(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	g := w.Good
	d := g.Manifest(t, "v1").Layers[0].Digest
	body := g.Blobs[d]
	layer := rtest.BlobName(d)
	raw := append(rtest.PAXBlock(map[string]string{"size": fmt.Sprint(len(body))}),
		rtest.UstarHeader(tar.Header{Typeflag: tar.TypeReg, Name: layer, Mode: 0o644}, int64(len(body)+512))...)
	raw = append(raw, rtest.Pad(body)...)
	w.importRejected(t, rtest.Tar(t, replace(t, g.Members(t), layer, rtest.Raw(raw))...), rtest.ExitIntegrity, layer, "size")
}

// TestO11_EmptyBlobNamedNonEmpty: a 0-byte entry named by a non-empty
// blob's digest is a digest mismatch naming e3b0c442…, not a dedupe hit
// or an empty file under a final name.
func TestO11_EmptyBlobNamedNonEmpty(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := w.Good.Manifest(t, "v1").Layers[0].Digest
	layer := rtest.BlobName(d)
	r := w.importRejected(t, rtest.Tar(t, replace(t, w.Good.Members(t), layer, rtest.Reg(layer, nil))...), rtest.ExitIntegrity, layer)
	if !strings.Contains(r.Stderr, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") && !strings.Contains(r.Stderr, "size") {
		t.Errorf("[E] %q names neither the empty content's digest nor the size", r.Stderr)
	}
}

// TestO12_ArchiveGivenTwice: `import x.tar x.tar L` (or the same file by
// another name) is a slip of the command line, refused as a usage error
// before anything is read; several different archives are imported
// together (TestImportSeveralArchives).
func TestO12_ArchiveGivenTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.run(t, "import", "-q", w.GoodTar, w.GoodTar, w.L)
	t.Logf("exit %d: %s", r.Code, r.Stderr)
	rtest.AssertCode(t, r, rtest.ExitUsage)
	w.rejected(t, r)
}

// TestO13_StdinCut: an archive piped on stdin that stops mid-blob:
// refused as truncated; staging removed.
func TestO13_StdinCut(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.Good.Tar(t)
	r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Stdin: strings.NewReader(string(a[:len(a)/2+100]))}, "import", "-q", "-", w.L)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, "truncated")
	w.rejected(t, r)
}

// TestO14_NestedMissing: an index whose member manifest is absent from
// the archive and the layout: refused naming the digest and where it sits
// in the graph.
func TestO14_NestedMissing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	f := chain(t, 1)
	f.Remove(rtest.Good(t).Tagged(t, "v1").Digest)
	w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "missing blob", rtest.Good(t).Tagged(t, "v1").Digest.String(), "v1")
}

// TestO15_ConfigDescriptorHostile: the config descriptor with a negative
// size, a digest that is a path, or a size larger than its blob: refused
// like a layer's (A-4, A-5 for the config).
func TestO15_ConfigDescriptorHostile(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		edit func(m *ocispec.Manifest)
		says string
	}{
		"negative": {func(m *ocispec.Manifest) { m.Config.Size = -1 }, "config"},
		"path":     {func(m *ocispec.Manifest) { m.Config.Digest = "sha256:../../../etc/passwd" }, `"sha256:../../../etc/passwd"`},
		"plus-one": {func(m *ocispec.Manifest) { m.Config.Size++ }, "config"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.EditManifest(t, "v1", c.edit)
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, c.says)
		})
	}
}

// TestO16_UnicodeConfusableTags: tags that look like v1 — fullwidth "v１",
// Cyrillic "v1", with a zero-width joiner, with a trailing space — are
// outside the ASCII ref.name grammar: refused in an archive (exit 3) and
// on the command line (exit 2), so `ls` never shows two "v1"s.
func TestO16_UnicodeConfusableTags(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{"v\uff11", "\u0432\u0031", "v\u200d1", "v1 ", "v1\u202e"} {
		t.Run(fmt.Sprintf("%+q", tag), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.Index.Manifests[0].Annotations[rtest.RefNameKey] = tag
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "invalid tag")
			r := w.run(t, "tag", "-q", w.L+":base", tag)
			rtest.AssertFail(t, r, rtest.ExitUsage, "invalid tag")
		})
	}
}
