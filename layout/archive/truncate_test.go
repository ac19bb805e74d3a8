package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
)

// headerOffsets lists where each tar header starts in an archive without
// PAX records (oci-pack's own exports), then where the end-of-archive
// marker starts.
func headerOffsets(t testing.TB, a []byte) []int {
	t.Helper()
	var out []int
	off := 0
	for _, m := range members(t, a) {
		if len(m.hdr.PAXRecords) > 0 {
			t.Fatalf("%s has PAX records", m.hdr.Name)
		}
		out = append(out, off)
		off += blockSize + int(padded(int64(len(m.body))))
	}
	if len(a)-off != 2*blockSize {
		t.Fatalf("end-of-archive marker at %d, archive is %d bytes", off, len(a))
	}
	return append(out, off, off+blockSize)
}

// TestImportTruncated: RELIABILITY — an archive cut at every
// header boundary (Go's tar reader sees a clean EOF there) and at offsets
// inside headers and data is refused as truncated, index.json untouched;
// the whole archive imports afterwards.
func TestImportTruncated(t *testing.T) {
	a := exportBytes(t, goodLayout(t), ExportOptions{})
	hdrs := headerOffsets(t, a)
	cuts := append([]int{}, hdrs...)
	for _, h := range hdrs[:len(hdrs)-2] {
		cuts = append(cuts, h+1, h+100, h+blockSize+1, h+blockSize+777)
	}
	cuts = append(cuts, len(a)-1)
	tg := newTarget(t)
	for _, n := range cuts {
		if n >= len(a) {
			continue
		}
		_, err := importInto(t, tg.dir, bytes.NewReader(a[:n]), ImportOptions{})
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d: err = %v, want ErrTruncated", n, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "truncated") && !strings.Contains(msg, "incomplete") {
			t.Errorf("cut at %d: %q says neither truncated nor incomplete", n, msg)
		}
		tg.unchanged(t)
	}
	// Cut exactly at a header boundary: named after the last whole entry.
	_, err := importInto(t, tg.dir, bytes.NewReader(a[:hdrs[len(hdrs)-2]]), ImportOptions{})
	if want := `archive ends without end-of-archive marker (truncated after entry "index.json"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("cut before the marker: %v, want %q", err, want)
	}
	// Cut inside the largest blob: the entry and the offset are named.
	ms, big := members(t, a), 0
	for i, m := range ms {
		if len(m.body) > len(ms[big].body) {
			big = i
		}
	}
	_, err = importInto(t, tg.dir, bytes.NewReader(a[:hdrs[big]+blockSize+10]), ImportOptions{})
	if want := fmt.Sprintf("unexpected EOF in entry %q at archive offset %d (file truncated?)", ms[big].hdr.Name, hdrs[big]+blockSize+10); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("cut inside a blob: %v, want %q", err, want)
	}
	if _, err := importInto(t, tg.dir, bytes.NewReader(a), ImportOptions{}); err != nil {
		t.Fatalf("whole archive after the cuts: %v", err)
	}
	verified(t, tg.dir)
}

// TestImportTruncatedCompressed: A-10 for .gz and .zst archives.
func TestImportTruncatedCompressed(t *testing.T) {
	a := exportBytes(t, goodLayout(t), ExportOptions{})
	for _, alg := range []compress.Algorithm{compress.Gzip, compress.Zstd} {
		c := compressed(t, a, alg)
		tg := newTarget(t)
		for _, n := range []int{1, 3, len(c) / 10, len(c) / 2, len(c) * 9 / 10, len(c) - 5, len(c) - 1} {
			_, err := importInto(t, tg.dir, bytes.NewReader(c[:n]), ImportOptions{})
			if !errors.Is(err, ErrTruncated) && !(n < 4 && errors.Is(err, ErrInvalid)) {
				t.Errorf("%s cut at %d of %d: err = %v, want ErrTruncated", alg, n, len(c), err)
			}
			tg.unchanged(t)
		}
		if _, err := importInto(t, tg.dir, bytes.NewReader(c), ImportOptions{}); err != nil {
			t.Fatalf("%s: whole archive: %v", alg, err)
		}
		verified(t, tg.dir)
	}
}

// failingReader yields n bytes of r, then fails like a pulled USB stick.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, syscall.EIO
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestImportResume: an import interrupted part-way leaves index.json as
// it was and keeps the verified blobs it committed; the re-run reuses
// them and ends with exactly what an uninterrupted import gives: the same
// index.json bytes and the same blobs.
func TestImportResume(t *testing.T) {
	src, _, _, _ := twoTags(t)
	a := exportBytes(t, src, ExportOptions{})

	clean := newTarget(t)
	if _, err := importInto(t, clean.dir, bytes.NewReader(a), ImportOptions{}); err != nil {
		t.Fatal(err)
	}

	tg := newTarget(t)
	_, err := importInto(t, tg.dir, &failingReader{r: bytes.NewReader(a), n: len(a) * 6 / 10}, ImportOptions{})
	if !errors.Is(err, syscall.EIO) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want the input's EIO, not an archive fault", err)
	}
	tg.unchanged(t)
	res, err := importInto(t, tg.dir, bytes.NewReader(a), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ReusedBytes < int64(len(a))/3 || res.Imported == 0 {
		t.Errorf("re-run: %+v; want the first run's blobs reused and the rest imported", res)
	}
	verified(t, tg.dir)
	if got, want := readFile(t, filepath.Join(tg.dir, "index.json")), readFile(t, filepath.Join(clean.dir, "index.json")); !bytes.Equal(got, want) {
		t.Errorf("index.json after resume:\n%s\nafter an uninterrupted import:\n%s", got, want)
	}
	if got, want := blobSet(t, tg.dir), blobSet(t, clean.dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("blobs after resume %v, after an uninterrupted import %v", got, want)
	}
}
