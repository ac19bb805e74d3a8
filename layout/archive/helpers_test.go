package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var ctx = context.Background()

// openLayout opens (creating) a writable layout at dir.
func openLayout(t testing.TB, dir string) *layout.Layout {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// randomBytes returns n pseudo-random bytes from seed: fixtures are the
// same on every run.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// packTag packs files (name → size, content from seed and name) into l as tag and
// returns the manifest descriptor. subject, if not nil, makes the artifact
// a referrer of it (then tag may be "").
func packTag(t testing.TB, l *layout.Layout, tag string, seed uint64, sizes map[string]int, subject *ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	src := t.TempDir()
	names := make([]string, 0, len(sizes))
	for n := range sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	var in []pack.Input
	for _, n := range names {
		p := filepath.Join(src, n)
		if err := os.WriteFile(p, randomBytes(seed+fnvHash(n), sizes[n]), 0o644); err != nil {
			t.Fatal(err)
		}
		in = append(in, pack.Input{Path: p, Title: n})
	}
	res, err := pack.Pack(ctx, l, in, pack.Options{ArtifactType: "application/vnd.oci-pack.test.v1", Compression: "none", Jobs: 2, MTime: time.Unix(0, 0), Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	if tag != "" {
		if _, err := l.Tag(ctx, tag, res.Manifest, layout.ConflictFail); err != nil {
			t.Fatal(err)
		}
	} else if err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error { return e.AddUntagged(res.Manifest) }); err != nil {
		t.Fatal(err)
	}
	return res.Manifest
}

func fnvHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// goodLayout makes RELIABILITY's good/: tag v1, one manifest, the empty
// config, two layers of a few KB. It returns the layout directory.
func goodLayout(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "good")
	l := openLayout(t, dir)
	defer l.Close()
	packTag(t, l, "v1", 1, map[string]int{"a.bin": 4096, "b.bin": 3000}, nil)
	return dir
}

// exportBytes exports dir with o and returns the archive.
func exportBytes(t testing.TB, dir string, o ExportOptions) []byte {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var buf bytes.Buffer
	if _, err := Export(ctx, l, &buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importInto imports archive into the layout at dir (created if needed)
// and closes the layout, so staging has been removed when it returns.
func importInto(t testing.TB, dir string, r io.Reader, o ImportOptions) (*ImportResult, error) {
	t.Helper()
	l := openLayout(t, dir)
	res, err := Import(ctx, l, r, o)
	if cerr := l.Close(); cerr != nil {
		t.Fatalf("close layout: %v", cerr)
	}
	return res, err
}

// target is a layout to import into, with a tag v0 already there, and a
// sentinel directory beside it that no import may touch.
type target struct {
	dir      string
	index    []byte // index.json before
	parent   string
	listing  string // the parent's tree outside the layout, before
	sentinel string
}

func newTarget(t testing.TB) *target { return makeTarget(t, true) }

// newEmptyTarget is newTarget without v0: a layout holding nothing.
func newEmptyTarget(t testing.TB) *target { return makeTarget(t, false) }

func makeTarget(t testing.TB, v0 bool) *target {
	t.Helper()
	parent := t.TempDir()
	tg := &target{dir: filepath.Join(parent, "L"), parent: parent, sentinel: filepath.Join(parent, "sentinel")}
	if err := os.MkdirAll(tg.sentinel, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tg.sentinel, "secret"), []byte("SENTINEL-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openLayout(t, tg.dir)
	if v0 {
		packTag(t, l, "v0", 99, map[string]int{"old.bin": 1000}, nil)
	}
	l.Close()
	tg.index = readFile(t, filepath.Join(tg.dir, "index.json"))
	tg.listing = treeListing(t, parent, tg.dir)
	return tg
}

// unchanged checks RELIABILITY's [U] and [C]: index.json byte-identical,
// every blob complete and verified, no staging left, nothing outside the
// layout created or changed.
func (tg *target) unchanged(t testing.TB) {
	t.Helper()
	if got := readFile(t, filepath.Join(tg.dir, "index.json")); !bytes.Equal(got, tg.index) {
		t.Errorf("index.json changed:\n%s\nwas\n%s", got, tg.index)
	}
	layouttest.Check(t, tg.dir)
	if got := treeListing(t, tg.parent, tg.dir); got != tg.listing {
		t.Errorf("files outside the layout changed:\n%s\nwas\n%s", got, tg.listing)
	}
}

// treeListing lists every path under root except those under skip, with
// type, size and content hash, one per line.
func treeListing(t testing.TB, root, skip string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		sum := ""
		if fi.Mode().IsRegular() {
			s := sha256.Sum256(readFile(t, p))
			sum = hex.EncodeToString(s[:8])
		}
		b.WriteString(p + " " + fi.Mode().String() + " " + sum + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// member is one archive entry for crafting archives.
type member struct {
	hdr  tar.Header
	body []byte
}

// members reads an archive into memory.
func members(t testing.TB, archive []byte) []member {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var out []member
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, member{hdr: *hdr, body: body})
	}
}

// build writes members as an archive; each header's size is set from its
// body unless sized is set.
func build(t testing.TB, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := m.hdr
		if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if len(m.body) > 0 {
			if _, err := tw.Write(m.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// find returns the index of the member named name.
func find(t testing.TB, ms []member, name string) int {
	t.Helper()
	for i, m := range ms {
		if m.hdr.Name == name {
			return i
		}
	}
	t.Fatalf("no member %q", name)
	return -1
}

func dirHeader(name string) tar.Header {
	return tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}
}

func regular(name string, body []byte) member {
	return member{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}, body: body}
}
