package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxLayoutFile bounds the oci-layout entry.
const maxLayoutFile = 64 << 10

// importer reads one archive's entries into a layout.
type importer struct {
	l    *layout.Layout
	s    *tarStream
	res  *ImportResult
	seen map[string]string // cleaned entry name → name as in the archive
	// names counts the bytes of the names in seen, within maxEntryNames.
	names int64
	index *ocispec.Index // the archive's index.json, once read
	found bool           // oci-layout was read and is valid
	last  string         // the last entry's name, for messages
	end   int64          // stream offset where the last entry's data ended
	buf   []byte
	watch *docWatch // ImportOptions.Documents (gate.go)
	// indexDigest is the digest of the archive's index.json bytes.
	indexDigest digest.Digest
	// want, if not nil, limits the blobs staged to these (verify
	// --repair); the others are read and dropped.
	want     map[digest.Digest]bool
	restored []digest.Digest // of want, the blobs committed
	// entries counts the entries read (bounded by MaxEntries).
	entries int
	// resume, if not nil, checkpoints the import so a re-run resumes it.
	resume *Resumer
}

// read consumes the whole stream: every entry, the end-of-archive marker
// and anything after it, which must be zeros (tar's record padding).
func (im *importer) read(ctx context.Context) error {
	tr := tar.NewReader(im.s)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			if im.s.off-im.end != 2*blockSize {
				return fmt.Errorf("archive ends without end-of-archive marker (truncated %s at offset %d): %w", im.after(), im.s.off, ErrTruncated)
			}
			break
		}
		if err != nil {
			return im.streamError(err, im.after())
		}
		if im.entries++; im.entries > MaxEntries {
			return fmt.Errorf("too many archive entries (> %d): %w", MaxEntries, ErrInvalid)
		}
		e, err := checkEntry(hdr)
		if err != nil {
			return err
		}
		if err := checkPAXSize(hdr, im.s.tail[:]); err != nil {
			return err
		}
		if first, dup := im.seen[e.name]; dup {
			return fmt.Errorf("duplicate archive entry %q (also %q): %w", hdr.Name, first, ErrInvalid)
		}
		if im.names += int64(len(e.name) + len(hdr.Name)); im.names > maxEntryNames {
			return fmt.Errorf("archive entry names total more than %d bytes (%d entries so far; an OCI layout's names are ~80 bytes each): %w", maxEntryNames, im.entries, ErrInvalid)
		}
		im.seen[e.name] = hdr.Name
		data := hdr.Size
		if hdr.Typeflag == tar.TypeDir {
			data = 0 // a header-only type: archive/tar reads no data for it
		}
		im.last, im.end = hdr.Name, im.s.off+padded(data)
		if err := im.entry(ctx, tr, hdr, e); err != nil {
			return err
		}
		im.resume.boundary(im, e, hdr.Size)
	}
	if err := im.trailer(); err != nil {
		return err
	}
	switch {
	case im.index == nil:
		return fmt.Errorf("index.json missing: archive incomplete: %w", ErrTruncated)
	case !im.found:
		return fmt.Errorf("oci-layout missing: not an OCI layout archive: %w", ErrInvalid)
	}
	return nil
}

// entry handles one checked entry.
func (im *importer) entry(ctx context.Context, tr *tar.Reader, hdr *tar.Header, e entry) error {
	switch e.kind {
	case kindBlob:
		return im.blob(ctx, tr, hdr, e)
	case kindIndex:
		b, err := im.readJSON(tr, hdr, strictjson.MaxDocument)
		if err != nil {
			return err
		}
		idx, err := layout.ParseIndex(b)
		if err != nil {
			// %v: the archive's bad tag is an integrity failure, not a
			// usage error (layout.ErrInvalidTag) of the caller's.
			return fmt.Errorf("archive entry %q: %v: %w", hdr.Name, err, ErrInvalid)
		}
		// Its descriptors go into the layout's index.json as they are:
		// refuse what verify would then flag (a descriptor without a
		// media type, a platform without os).
		if err := layout.ValidateSchema(b, true); err != nil {
			return fmt.Errorf("archive entry %q: %v: %w", hdr.Name, err, ErrInvalid)
		}
		im.index, im.indexDigest = idx, digest.FromBytes(b)
	case kindLayoutFile:
		b, err := im.readJSON(tr, hdr, maxLayoutFile)
		if err != nil {
			return err
		}
		var v struct {
			Version string `json:"imageLayoutVersion"`
		}
		if err := strictjson.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("archive entry %q: %v: %w", hdr.Name, err, ErrInvalid)
		}
		if v.Version != layout.LayoutVersion {
			return fmt.Errorf("archive entry %q: imageLayoutVersion %q, expected %q: %w", hdr.Name, v.Version, layout.LayoutVersion, ErrInvalid)
		}
		im.found = true
	default:
		if _, err := io.CopyBuffer(io.Discard, tr, im.buf); err != nil {
			return im.streamError(err, fmt.Sprintf("in entry %q", hdr.Name))
		}
	}
	return nil
}

// blob stages one blob entry and commits it if its bytes match its name,
// or skips it if the layout already holds it.
func (im *importer) blob(ctx context.Context, tr *tar.Reader, hdr *tar.Header, e entry) error {
	if err := im.watch.before(ctx, hdr); err != nil {
		return err
	}
	desc := ocispec.Descriptor{Digest: e.digest, Size: hdr.Size}
	held, err := im.l.Blobs().Has(ctx, desc)
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
	}
	if im.want != nil && !im.want[e.digest] {
		held = true // not asked for: read and dropped
	}
	if held {
		im.watch.arrived(desc)
		im.s.limit += padded(hdr.Size) // read and dropped, never written
		if _, err := io.CopyBuffer(io.Discard, tr, im.buf); err != nil {
			return im.streamError(err, fmt.Sprintf("in entry %q", hdr.Name))
		}
		im.res.Reused++
		im.res.ReusedBytes += hdr.Size
		return nil
	}
	if hdr.Size > im.s.left() {
		return fmt.Errorf("archive entry %q declares %d bytes, more than the %d left (%s): %w", hdr.Name, hdr.Size, im.s.left(), im.s.budget, im.s.over)
	}
	w, dst, err := im.resume.writer(ctx, im.l, im, desc, hdr, e)
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
	}
	if rerr, werr := copyEntry(dst, tr, im.buf); rerr != nil || werr != nil {
		im.resume.stop(w, dst)
		if werr != nil {
			return fmt.Errorf("archive entry %q: staging blob %s: %w", hdr.Name, e.digest, werr)
		}
		return im.streamError(rerr, fmt.Sprintf("in entry %q", hdr.Name))
	}
	if _, err := w.Commit(ctx); err != nil {
		return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
	}
	im.watch.arrived(desc)
	if im.want != nil {
		im.restored = append(im.restored, e.digest)
	}
	im.res.Imported++
	im.res.ImportedBytes += hdr.Size
	return nil
}

// copyEntry copies src to dst, telling failures to read the archive from
// failures to write the layout.
func copyEntry(dst io.Writer, src io.Reader, buf []byte) (rerr, werr error) {
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
	}
}

// readJSON reads a JSON entry into memory, refusing one over max bytes
// before reading it.
func (im *importer) readJSON(tr *tar.Reader, hdr *tar.Header, max int64) ([]byte, error) {
	if hdr.Size > max {
		return nil, fmt.Errorf("archive entry %q: %d bytes exceeds the %d byte limit: %w", hdr.Name, hdr.Size, max, ErrInvalid)
	}
	b, err := strictjson.ReadAll(tr, max)
	if err != nil {
		return nil, im.streamError(err, fmt.Sprintf("in entry %q", hdr.Name))
	}
	return b, nil
}

// trailer reads what follows the end-of-archive marker to the end of the
// stream (so a compressed stream's checksum is checked and every volume is
// read), accepting only zeros.
func (im *importer) trailer() error {
	for {
		n, err := im.s.Read(im.buf)
		for i, c := range im.buf[:n] {
			if c != 0 {
				return fmt.Errorf("data after the end-of-archive marker at offset %d: %w", im.s.off-int64(n)+int64(i), ErrInvalid)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return im.streamError(err, "after the end-of-archive marker")
		}
	}
}

// streamError explains a failure to read the stream at the current
// offset: an early EOF is truncation, a bad header is corruption; errors
// that already say what they are pass through.
func (im *importer) streamError(err error, where string) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("unexpected EOF %s at archive offset %d (file truncated?): %w", where, im.s.off, ErrTruncated)
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrInsecurePath), errors.Is(err, tar.ErrFieldTooLong):
		return fmt.Errorf("invalid tar header %s at archive offset %d: %v: %w", where, im.s.off, err, ErrInvalid)
	case errors.Is(err, strictjson.ErrTooLarge):
		return fmt.Errorf("entry %s: %v: %w", where, err, ErrInvalid)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// after says where in the archive the stream stopped, for messages.
func (im *importer) after() string {
	if im.last == "" {
		return "before the first entry"
	}
	return fmt.Sprintf("after entry %q", im.last)
}
