package rtest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"testing"
)

// Entry is one archive member: a header and its data, or raw bytes written
// verbatim (a hand-made header, a lying size, garbage).
type Entry struct {
	Hdr  tar.Header
	Body []byte
	Raw  []byte // if non-nil, written as is instead of Hdr and Body
}

// Reg is a regular file of mode 0644.
func Reg(name string, body []byte) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}, Body: body}
}

// Dir is a directory of mode 0755.
func Dir(name string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}}
}

// Symlink is a symbolic link name → target.
func Symlink(name, target string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

// Hardlink is a hard link name → target.
func Hardlink(name, target string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

// Raw is bytes written verbatim into the archive.
func Raw(b []byte) Entry { return Entry{Raw: b} }

// TarStream writes entries to w one at a time, so archives of any size
// can be streamed (into a pipe or a compressor) without being held.
type TarStream struct {
	w   io.Writer
	err error
}

// NewTarStream starts an archive on w.
func NewTarStream(w io.Writer) *TarStream { return &TarStream{w: w} }

// Add writes e.
func (s *TarStream) Add(e Entry) error {
	if s.err != nil {
		return s.err
	}
	if e.Raw != nil {
		_, s.err = s.w.Write(e.Raw)
		return s.err
	}
	tw := tar.NewWriter(s.w)
	if s.err = tw.WriteHeader(&e.Hdr); s.err != nil {
		return fmt.Errorf("tar header %q: %w", e.Hdr.Name, s.err)
	}
	if _, s.err = tw.Write(e.Body); s.err == nil {
		s.err = tw.Flush() // pads the entry; writes no end marker
	}
	return s.err
}

// AddData writes a regular file of size bytes read from r, streaming.
func (s *TarStream) AddData(name string, size int64, r io.Reader) error {
	if s.err != nil {
		return s.err
	}
	tw := tar.NewWriter(s.w)
	if s.err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size}); s.err != nil {
		return s.err
	}
	if _, s.err = io.CopyN(tw, r, size); s.err == nil {
		s.err = tw.Flush()
	}
	return s.err
}

// Close writes the end-of-archive marker (two zero blocks).
func (s *TarStream) Close() error {
	if s.err != nil {
		return s.err
	}
	_, s.err = s.w.Write(make([]byte, 1024))
	return s.err
}

// Tar is an archive of entries with an end-of-archive marker.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	s := NewTarStream(&buf)
	for _, e := range entries {
		if err := s.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TarNoEOF is an archive of entries without the end-of-archive marker.
func TarNoEOF(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	b := Tar(t, entries...)
	return b[:len(b)-1024]
}

// WriteFile writes b to path, failing t on error.
func WriteFile(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// UstarHeader is a 512-byte ustar header for h with size forced to size,
// whatever h.Size says and however large (base-256 if it does not fit in
// octal): a header that may lie about the data following it.
func UstarHeader(h tar.Header, size int64) []byte {
	h.Size = 0
	if h.Format == tar.FormatUnknown {
		h.Format = tar.FormatUSTAR
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&h); err != nil {
		panic(fmt.Sprintf("UstarHeader %q: %v", h.Name, err))
	}
	tw.Flush()
	b := buf.Bytes()
	hdr := append([]byte(nil), b[len(b)-512:]...) // the last block: after any PAX header
	setNumeric(hdr[124:136], size)
	return Rechecksum(hdr)
}

// setNumeric writes n as tar does: 11 octal digits and NUL, or base-256.
func setNumeric(f []byte, n int64) {
	s := strconv.FormatInt(n, 8)
	if n >= 0 && len(s) < len(f) {
		copy(f, fmt.Sprintf("%0*s", len(f)-1, s))
		f[len(f)-1] = 0
		return
	}
	for i := len(f) - 1; i > 0; i-- {
		f[i] = byte(n)
		n >>= 8
	}
	f[0] = 0x80
}

// Rechecksum recomputes a hand-edited header's checksum field in place and
// returns hdr.
func Rechecksum(hdr []byte) []byte {
	copy(hdr[148:156], "        ")
	var sum int64
	for _, c := range hdr[:512] {
		sum += int64(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return hdr
}

// PAXBlock is a PAX extended header ('x') carrying records, padded to
// blocks, written by hand so it can say anything (a size the ustar header
// contradicts, a 1 MiB path, 100,000 records).
func PAXBlock(records map[string]string) []byte {
	keys := make([]string, 0, len(records))
	for k := range records {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var body bytes.Buffer
	for _, k := range keys {
		body.WriteString(PAXRecord(k, records[k]))
	}
	return PAXRaw(body.Bytes())
}

// PAXRaw is a PAX extended header ('x') whose body is body verbatim.
func PAXRaw(body []byte) []byte {
	hdr := UstarHeader(tar.Header{Typeflag: tar.TypeReg, Name: "PaxHeaders/x", Mode: 0o644}, int64(len(body)))
	hdr[156] = tar.TypeXHeader // tar.Writer will not write an 'x' header itself
	out := append(Rechecksum(hdr), body...)
	if pad := len(body) % 512; pad != 0 {
		out = append(out, make([]byte, 512-pad)...)
	}
	return out
}

// PAXRecord formats one "LEN key=value\n" record.
func PAXRecord(k, v string) string {
	n := len(k) + len(v) + 3 // space, '=', newline
	l := len(strconv.Itoa(n))
	for len(strconv.Itoa(n+l)) != l {
		l++
	}
	return fmt.Sprintf("%d %s=%s\n", n+l, k, v)
}

// Pad is data padded with zeros to a whole number of 512-byte blocks.
func Pad(data []byte) []byte {
	if r := len(data) % 512; r != 0 {
		return append(append([]byte(nil), data...), make([]byte, 512-r)...)
	}
	return data
}
