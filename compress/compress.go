// Package compress provides the codecs oci-pack writes and reads — none,
// gzip, zstd — with fixed parameters so compressed bytes (and so digests)
// never depend on how many cores were used, parallel encoders, bounded
// decoders, media-type suffixes and magic-byte sniffing. It does not touch
// the filesystem.
package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Algorithm names a codec.
type Algorithm string

const (
	None Algorithm = "none"
	Gzip Algorithm = "gzip"
	Zstd Algorithm = "zstd"
)

// ErrTooLarge is returned by a bounded reader whose output exceeds its
// limit (a decompression bomb, RELIABILITY F-52).
var ErrTooLarge = errors.New("decompressed data exceeds limit")

// Parse parses "none", "gzip" or "zstd".
func Parse(s string) (Algorithm, error) {
	switch a := Algorithm(s); a {
	case None, Gzip, Zstd:
		return a, nil
	}
	return "", fmt.Errorf("unknown compression %q: want none, gzip or zstd", s)
}

// MediaSuffix is the media-type suffix for a: "", "+gzip" or "+zstd".
func (a Algorithm) MediaSuffix() string {
	if a == None || a == "" {
		return ""
	}
	return "+" + string(a)
}

// FromMediaType splits a media type into its base and its compression
// suffix: "application/vnd.oci.image.layer.v1.tar+zstd" gives
// ("application/vnd.oci.image.layer.v1.tar", Zstd). Docker's gzip layer
// type counts as gzip.
func FromMediaType(mt string) (base string, a Algorithm) {
	switch {
	case strings.HasSuffix(mt, "+gzip"):
		return strings.TrimSuffix(mt, "+gzip"), Gzip
	case strings.HasSuffix(mt, "+zstd"):
		return strings.TrimSuffix(mt, "+zstd"), Zstd
	case mt == "application/vnd.docker.image.rootfs.diff.tar.gzip":
		return "application/vnd.docker.image.rootfs.diff.tar", Gzip
	}
	return mt, None
}

// Options configure an encoder. The output depends on Level only, never
// on Concurrency.
type Options struct {
	// Level: zstd 1..22 (default 3), gzip 1..9 (default 6) or -2 for
	// Huffman-only, which is what pays on bf16 weights.
	Level int
	// Concurrency is how many cores one encoder may use (<= 0: 1).
	Concurrency int
}

// DefaultLevel is the level used when Options.Level is 0.
func (a Algorithm) DefaultLevel() int {
	switch a {
	case Zstd:
		return 3
	case Gzip:
		return 6
	}
	return 0
}

// CheckLevel validates a level for a.
func (a Algorithm) CheckLevel(level int) error {
	switch {
	case level == 0, a == None:
		return nil
	case a == Zstd && level >= 1 && level <= 22:
		return nil
	case a == Gzip && (level >= 1 && level <= 9 || level == -2 || level == LevelStore):
		return nil
	}
	return fmt.Errorf("compression level %d out of range for %s (zstd 1..22, gzip 1..9 or -2 for Huffman-only)", level, a)
}

// NewWriter returns an encoder writing a's format to w. Close flushes it
// (and does not close w); its error must be checked.
func NewWriter(w io.Writer, a Algorithm, o Options) (io.WriteCloser, error) {
	if err := a.CheckLevel(o.Level); err != nil {
		return nil, err
	}
	if o.Level == 0 {
		o.Level = a.DefaultLevel()
	}
	switch a {
	case None:
		return nopCloser{w}, nil
	case Gzip:
		return newGzipWriter(w, o)
	case Zstd:
		return newZstdWriter(w, o)
	}
	return nil, fmt.Errorf("unknown compression %q", a)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Magic bytes.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Sniff names the codec whose magic starts header, or None.
func Sniff(header []byte) Algorithm {
	switch {
	case bytes.HasPrefix(header, zstdMagic):
		return Zstd
	case bytes.HasPrefix(header, gzipMagic):
		return Gzip
	}
	return None
}

// NewReader returns a decoder of a reading r, which yields at most limit
// decompressed bytes (limit < 0: unbounded); one byte more is ErrTooLarge.
// Close releases the decoder's goroutines; it does not close r.
func NewReader(r io.Reader, a Algorithm, limit int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	var err error
	switch a {
	case None:
		rc = io.NopCloser(r)
	case Gzip:
		rc, err = newGzipReader(r)
	case Zstd:
		rc, err = newZstdReader(r)
	default:
		return nil, fmt.Errorf("unknown compression %q", a)
	}
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		return rc, nil
	}
	return &limitedReader{rc: rc, left: limit, limit: limit}, nil
}

type limitedReader struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), fmt.Errorf("%w (%d bytes)", ErrTooLarge, l.limit)
	}
	return n, err
}

func (l *limitedReader) Close() error { return l.rc.Close() }

// LevelStore asks gzip for stored (uncompressed) deflate blocks: still a
// valid gzip stream, at memcpy speed, for content that will not compress
// but must be gzip (oras unpacks directory layers only from gzip).
const LevelStore = -100
