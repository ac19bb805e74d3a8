//go:build unix

package adversarial

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	gib = int64(1) << 30
	mib = int64(1) << 20
)

// frames builds a compressed stream cheaply out of independently
// compressed pieces: zstd frames and gzip members concatenate into one
// stream, so 10 GiB of zeros is one compressed 1 MiB-of-zeros piece
// repeated, never 10 GiB of work or memory.
type frames struct {
	alg  string // "zstd" or "gzip"
	zero []byte // 1 MiB of zeros, compressed
	enc  *zstd.Encoder
	buf  bytes.Buffer
}

func newFrames(t testing.TB, alg string) *frames {
	f := &frames{alg: alg}
	if alg == "zstd" {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		f.enc = enc
	}
	f.zero = f.compress(t, make([]byte, mib))
	return f
}

// compress is b as one zstd frame or gzip member.
func (f *frames) compress(t testing.TB, b []byte) []byte {
	if f.enc != nil {
		return f.enc.EncodeAll(b, nil)
	}
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// raw appends b compressed.
func (f *frames) raw(t testing.TB, b []byte) { f.buf.Write(f.compress(t, b)) }

// zeros appends n MiB of zeros.
func (f *frames) zeros(n int64) {
	for range n {
		f.buf.Write(f.zero)
	}
}

// declared is one archive entry name declaring size bytes of zeros
// (size a multiple of 1 MiB), compressed.
func (f *frames) declared(t testing.TB, name string, size int64) {
	f.raw(t, rtest.UstarHeader(rtestHeader(name), size))
	f.zeros(size / mib)
}

// TestF52_DecompressionBombs: 10 GiB of zeros as .tar.zst and .tar.gz
// (a few hundred KB on disk) claiming to be one blob, and 10 GiB of
// 16 MiB scratch entries: the import stops at the budget — refused from
// the header when the size is declared, after at most the budget when the
// bytes are only read — with [E] naming the budget, [M], [U]. With
// --max-bytes that is exit 3 (the user's limit: the archive is too
// large); under the default budget (free space minus a reserve) on a
// small tmpfs it is exit 1 (I11: no space is an environment failure).
// A Hauler-style index referencing 1 TB of absent blobs is refused as
// missing blobs.
func TestF52_DecompressionBombs(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	blob := rtest.BlobName(digest.FromString("bomb"))
	build := func(t *testing.T, alg string, scratch bool) []byte {
		f := newFrames(t, alg)
		var head bytes.Buffer
		for _, e := range g.Members(t)[:1] {
			head.Write(rtest.Tar(t, e)[:512+512]) // oci-layout's header and data
		}
		f.raw(t, head.Bytes())
		if scratch {
			for i := range 10 * 1024 / 16 {
				f.declared(t, fmt.Sprintf("ingest/junk-%d", i), 16*mib)
			}
		} else {
			f.declared(t, blob, 10*gib)
		}
		f.raw(t, make([]byte, 1024))
		return f.buf.Bytes()
	}
	for _, c := range []struct {
		alg     string
		scratch bool
		says    string
	}{
		{"zstd", false, "declares 10737418240 bytes"},
		{"gzip", false, "declares 10737418240 bytes"},
		{"zstd", true, "archive expands beyond limit"},
		{"gzip", true, "archive expands beyond limit"},
	} {
		name := fmt.Sprintf("%s-scratch=%v", c.alg, c.scratch)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			b := build(t, c.alg, c.scratch)
			if len(b) > 16<<20 { // deflate tops out near 1:1032: ~10 MB
				t.Fatalf("the bomb is %d bytes on disk", len(b))
			}
			p := w.input(t, "bomb.tar."+c.alg[:2], b)
			r := w.run(t, "import", "-q", p, w.L, "--max-bytes", "64MiB")
			t.Logf("exit %d: %s", r.Code, r.Stderr)
			rtest.AssertFail(t, r, rtest.ExitIntegrity, c.says, "budget of 67108864 bytes given")
			w.rejected(t, r)
		})
	}
	t.Run("default-budget-tmpfs", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		mnt := filepath.Join(w.In, "mnt")
		os.MkdirAll(mnt, 0o755)
		fs, err := rtest.NewTmpfs(t, mnt, "96m")
		if err != nil {
			t.Skipf("no tmpfs in a private mount namespace: %v", err)
		}
		L := filepath.Join(mnt, "L")
		fs.Exec(t, "cp", "-a", w.L, L)
		snap := rtest.Snap(t, fs.View(L))
		for _, scratch := range []bool{false, true} {
			p := w.input(t, fmt.Sprintf("bomb-%v.tar.zst", scratch), build(t, "zstd", scratch))
			r := rtest.RunWith(t, rtest.Opts{Wrap: fs.Wrap, Timeout: time.Minute}, "import", "-q", p, L)
			t.Logf("exit %d: %s", r.Code, r.Stderr)
			rtest.AssertFail(t, r, rtest.ExitFailure, "bytes free in", "reserve")
			rtest.AssertRSS(t, r)
			snap.AssertUnchanged(t)
		}
		if r := rtest.RunWith(t, rtest.Opts{Wrap: fs.Wrap}, "verify", "-q", L); r.Code != 0 {
			t.Errorf("[V] verify: %v", r)
		}
		if r := rtest.RunWith(t, rtest.Opts{Wrap: fs.Wrap}, "import", "-q", w.GoodTar, L); r.Code != 0 {
			t.Errorf("[V] good import on the tmpfs: %v", r)
		}
		w.S.AssertIntact(t)
	})
	t.Run("hauler-1TB", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		f := w.Good.Clone(t)
		f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
			for i := range 1000 {
				m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: rtest.LayerType,
					Digest: digest.FromString(fmt.Sprint(i)), Size: 1 << 30})
			}
		})
		w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "missing blob")
	})
}

// rtestHeader is a regular-file header for name (its size set by
// rtest.UstarHeader).
func rtestHeader(name string) tar.Header {
	return tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644}
}

// TestF53_HugeDeclaredSizes: a header claiming 1 TiB followed by 512
// bytes (no preallocation: refused against free space, or read to the
// unexpected EOF with bounded memory and disk); 1,000,000 zero-size
// entries (capped at 100,000, streamed so the test never holds them);
// a PAX header of 100,000 records over the 1 MiB cap and one of 50,000
// under it; a 1 MiB name via PAX.
func TestF53_HugeDeclaredSizes(t *testing.T) {
	t.Parallel()
	t.Run("1TiB-header", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ms := w.Good.Members(t)
		a := append(rtest.TarNoEOF(t, ms[0]), rtest.UstarHeader(rtestHeader(rtest.BlobName(digest.FromString("tb"))), 1<<40)...)
		a = append(a, make([]byte, 512)...)
		p := w.input(t, "tb.tar", a)
		r := w.run(t, "import", "-q", p, w.L, "--max-bytes", "2TiB")
		rtest.AssertFail(t, r, rtest.ExitIntegrity, "unexpected EOF", "truncated")
		w.Snap.AssertUnchanged(t)
		r = w.run(t, "import", "-q", p, w.L)
		t.Logf("default budget: exit %d: %s", r.Code, r.Stderr)
		if free := freeBytes(t, w.L); free < 1<<40 {
			rtest.AssertFail(t, r, rtest.ExitFailure, "declares 1099511627776 bytes", "free")
		}
		w.rejected(t, r)
		if du := dirSize(t, w.L); du > 10<<20 {
			t.Errorf("[M] the layout holds %d bytes after a refused 1 TiB entry: preallocated?", du)
		}
	})
	t.Run("million-entries", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := w.importStream(t, func(s *rtest.TarStream) error {
			if err := s.Add(rtest.Reg("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))); err != nil {
				return err
			}
			for i := range 1_000_000 {
				if err := s.Add(rtest.Reg(fmt.Sprintf("ingest/%d", i), nil)); err != nil {
					return err
				}
			}
			return s.Close()
		})
		rtest.AssertFail(t, r, rtest.ExitIntegrity, "too many archive entries (> 100000)")
		w.rejected(t, r)
	})
	for _, n := range []int{100_000, 50_000} {
		t.Run(fmt.Sprintf("pax-%d-records", n), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			recs := map[string]string{}
			for i := range n {
				recs[fmt.Sprintf("oci.x%d", i)] = "y"
			}
			ms := w.Good.Members(t)
			a := append(rtest.PAXBlock(recs), rtest.Tar(t, ms...)...)
			p := w.input(t, "pax.tar", a)
			r := w.run(t, "import", "-q", p, w.L)
			t.Logf("exit %d: %.300s", r.Code, r.Stderr)
			rtest.AssertRSS(t, r)
			if n == 100_000 {
				rtest.AssertFail(t, r, rtest.ExitIntegrity, "invalid tar header")
				w.rejected(t, r)
			} else if r.Code != 0 && r.Code != rtest.ExitIntegrity {
				t.Errorf("[E] 50,000 PAX records: %v", r)
			}
		})
	}
	t.Run("1MiB-pax-name", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		name := "blobs/sha256/" + strings.Repeat("a", 1<<20-200)
		a := append(rtest.PAXBlock(map[string]string{"path": name}), rtest.UstarHeader(rtestHeader("x"), 0)...)
		a = append(rtest.TarNoEOF(t, w.Good.Members(t)[0]), append(a, rtest.Tar(t, w.Good.Members(t)[1:]...)...)...)
		r := w.importRejected(t, a, rtest.ExitIntegrity, "blobs/sha256/aaaa")
		if len(r.Stderr) > 64<<10 {
			t.Errorf("[E] the error line is %d bytes: a 1 MiB name printed whole", len(r.Stderr))
		}
	})
}

// importStream imports an archive written by gen into a pipe, so the
// test never holds it; the producer stops when the import stops reading.
func (w *world) importStream(t *testing.T, gen func(s *rtest.TarStream) error, args ...string) rtest.Result {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen(rtest.NewTarStream(pw))) }()
	r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Stdin: pr, Timeout: 2 * time.Minute}, append([]string{"import", "-q", "-", w.L}, args...)...)
	pr.Close()
	t.Logf("exit %d: %.300s", r.Code, r.Stderr)
	return r
}

// TestF54_PathologicalJSON: index.json of 200 MB (in a directory and in
// an archive), a manifest of 1,000,000 layers, one of 1,000,000
// annotations, one with a 20 MB string, nesting 100,000 deep, "size":
// 1e400: refused by the 8 MiB cap before parsing, or by the strict
// decoder, with bounded memory; never a crash.
func TestF54_PathologicalJSON(t *testing.T) {
	t.Parallel()
	t.Run("index-200MB-dir", func(t *testing.T) {
		t.Parallel()
		w := sabotaged(t, func(w *world) {
			if err := os.Truncate(filepath.Join(w.L, "index.json"), 200<<20); err != nil {
				t.Fatal(err)
			}
		})
		r := w.run(t, "verify", "-q", w.L)
		rtest.AssertFail(t, r, rtest.ExitIntegrity, "index.json", "limit")
		rtest.AssertRSS(t, r)
		w.Snap.AssertUnchanged(t)
	})
	t.Run("index-200MB-archive", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ms := w.Good.Members(t)
		r := w.importStream(t, func(s *rtest.TarStream) error {
			for _, m := range ms[:len(ms)-1] {
				s.Add(m)
			}
			return s.AddData("index.json", 200<<20, spaces{})
		})
		rtest.AssertFail(t, r, rtest.ExitIntegrity, "index.json", "limit")
		w.rejected(t, r)
	})
	docs := map[string]func(w io.Writer){
		"million-layers": func(w io.Writer) {
			io.WriteString(w, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[`)
			d := `{"mediaType":"application/octet-stream","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}`
			for i := range 1_000_000 {
				if i > 0 {
					io.WriteString(w, ",")
				}
				io.WriteString(w, d)
			}
			io.WriteString(w, `]}`)
		},
		"million-annotations": func(w io.Writer) {
			io.WriteString(w, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{`)
			for i := range 1_000_000 {
				if i > 0 {
					io.WriteString(w, ",")
				}
				fmt.Fprintf(w, `"k%d":"v"`, i)
			}
			io.WriteString(w, `}}`)
		},
		"20MB-string": func(w io.Writer) {
			io.WriteString(w, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"x":"`)
			io.CopyN(w, spaces{'a'}, 20<<20)
			io.WriteString(w, `"}}`)
		},
	}
	for name, gen := range docs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if name == "20MB-string" {
				// Through an archive: staged, verified, then refused as a
				// document by the graph check.
				h := sha256.New()
				n := counted(h, gen)
				d := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
				f := w.Good.Clone(t)
				f.SetTag(t, "v1", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: n})
				ms := f.Members(t)
				r := w.importStream(t, func(s *rtest.TarStream) error {
					s.Add(ms[0])
					pr, pw := io.Pipe()
					go func() { gen(pw); pw.Close() }()
					if err := s.AddData(rtest.BlobName(d), n, pr); err != nil {
						pr.CloseWithError(err)
						return err
					}
					for _, m := range ms[1:] {
						s.Add(m)
					}
					return s.Close()
				})
				rtest.AssertFail(t, r, rtest.ExitIntegrity, d.String(), "limit")
				w.rejected(t, r)
				return
			}
			// In a layout directory (written once, hashed on the way):
			// verify, ls and extract refuse it by its size, unread.
			L := filepath.Join(w.In, "big")
			rtest.Good(t).WriteDir(t, L)
			tmp := filepath.Join(L, "blobs", "sha256", "tmp")
			fh, err := os.Create(tmp)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			bw := bufio.NewWriterSize(io.MultiWriter(fh, h), 1<<20)
			n := counted(bw, gen)
			bw.Flush()
			fh.Close()
			d := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
			os.Rename(tmp, filepath.Join(L, "blobs", "sha256", d.Encoded()))
			f := rtest.Good(t)
			f.SetTag(t, "v1", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: n})
			os.WriteFile(filepath.Join(L, "index.json"), f.IndexBytes(t), 0o644)
			for _, cmd := range [][]string{{"verify", "-q", L}, {"extract", "-q", L + ":v1", "-o", w.Out}, {"export", "-q", L + ":v1", "-o", filepath.Join(w.In, "x.tar")}} {
				r := w.run(t, cmd...)
				if cmd[0] == "verify" {
					rtest.AssertCode(t, r, rtest.ExitIntegrity)
					if !strings.Contains(r.Stderr, d.String()) || !strings.Contains(r.Stderr, "limit") {
						t.Errorf("[E] verify does not name %s over the limit: %v", d, r)
					}
				} else {
					rtest.AssertFail(t, r, rtest.ExitIntegrity, d.Encoded(), "limit")
				}
				rtest.AssertRSS(t, r)
			}
			assertEmptyDir(t, w.Out)
			w.S.AssertIntact(t)
		})
	}
	for name, body := range map[string]string{
		"nesting-100000": `{"schemaVersion":2,"manifests":[],"annotations":{"x":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}}`,
		"size-1e400":     `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":1e400}]}`,
		"size-float":     `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2.5}]}`,
		"size-2^64":      `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":18446744073709551616}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			f := w.Good.Clone(t)
			f.IndexRaw = []byte(body)
			w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, "index.json")
			dir := f.WriteDir(t, filepath.Join(w.In, "asdir"))
			r := w.run(t, "verify", "-q", dir)
			rtest.AssertFail(t, r, rtest.ExitIntegrity, "index.json")
		})
	}
}

// spaces reads as an endless run of one byte (a space by default).
type spaces []byte

func (s spaces) Read(p []byte) (int, error) {
	c := byte(' ')
	if len(s) > 0 {
		c = s[0]
	}
	for i := range p {
		p[i] = c
	}
	return len(p), nil
}

// counted runs gen into w and returns how many bytes it wrote.
func counted(w io.Writer, gen func(io.Writer)) int64 {
	c := &counter{w: w}
	gen(c)
	return c.n
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}
