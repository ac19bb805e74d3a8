package pack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Default media types.
const (
	MediaTypeRawFile = "application/octet-stream"
	MediaTypeTar     = ocispec.MediaTypeImageLayer // "application/vnd.oci.image.layer.v1.tar"
)

// copyBufferSize is the buffer for streaming files into blobs: large
// enough that syscalls are not the cost, small enough to keep RSS flat.
const copyBufferSize = 1 << 20

// Layer is one built layer.
type Layer struct {
	Descriptor ocispec.Descriptor
	// DiffID is the digest of the uncompressed content (equal to
	// Descriptor.Digest when stored raw).
	DiffID digest.Digest
	// Reused: the blob was already in the layout.
	Reused bool
}

// writeRawFile stores the file at p as one blob, byte for byte, the
// cheapest way the file systems allow (cas Writer.ReadFromFile: a clone,
// a kernel copy, or a copy through user space; each reads the file once
// and verifies what it staged). The descriptor's size is what was
// actually read, never the stat size (/proc files report 0). A file that
// changes while it is read is refused with ErrChanged, so no torn copy is
// stored. release, if not nil, is called once the bytes are staged,
// before the commit's fsync: the caller's CPU slot is free from then on.
func writeRawFile(ctx context.Context, s *cas.Store, p string, mediaType string, tr layout.ProgressItem, release func()) (Layer, error) {
	f, err := openInput(p)
	if err != nil {
		return Layer{}, err
	}
	defer f.Close()
	w, err := s.Writer(ctx, ocispec.Descriptor{MediaType: mediaType})
	if err != nil {
		return Layer{}, err
	}
	if _, err := w.ReadFromFile(ctx, f, tr.Add); err != nil {
		w.Abort()
		return Layer{}, changed(p, err)
	}
	if release != nil {
		release()
	}
	res, err := w.Commit(ctx)
	if err != nil {
		return Layer{}, err
	}
	return Layer{Descriptor: res.Descriptor, DiffID: res.Descriptor.Digest, Reused: res.Reused}, nil
}

// checkUnchanged returns an error wrapping ErrChanged, naming p, if f
// (opened as p, with before its fstat at open) changed while n bytes were
// read from it (cas.CheckUnchanged: size, mtime or ctime, or n not the
// size at open; a /proc-like file of size 0 is taken as read, RELIABILITY
// C-31).
func checkUnchanged(f *os.File, p string, before os.FileInfo, n int64) error {
	return changed(p, cas.CheckUnchanged(f, before, n))
}

// changed makes a cas.ErrSourceChanged error about the input p an
// ErrChanged naming p; other errors (and nil) pass unchanged.
func changed(p string, err error) error {
	if errors.Is(err, cas.ErrSourceChanged) {
		return fmt.Errorf("%s: %w (%w)", p, ErrChanged, err)
	}
	return err
}

// writeTarLayer streams entries as a reproducible tar through the
// compressor into one blob. The diffID (digest of the uncompressed tar) is
// computed only when wantDiffID — oras's unpack annotation and ModelPack's
// config need it — and then on its own goroutine, overlapping compression:
// a second sha256 in line would cap the layer at one core's hash speed.
// Uncompressed, the diffID is the digest itself. release is as for
// writeRawFile.
func writeTarLayer(ctx context.Context, s *cas.Store, entries []entry, to TarOptions, mediaType string, alg compress.Algorithm, co compress.Options, wantDiffID bool, tr layout.ProgressItem, release func()) (Layer, error) {
	w, err := s.Writer(ctx, ocispec.Descriptor{MediaType: mediaType})
	if err != nil {
		return Layer{}, err
	}
	zw, err := compress.NewWriter(w, alg, co)
	if err != nil {
		w.Abort()
		return Layer{}, err
	}
	var diff *cas.AsyncHash
	var out io.Writer = zw
	if wantDiffID && alg != compress.None {
		diff = cas.NewAsyncHash(digest.SHA256)
		out = io.MultiWriter(diff, zw)
	}
	fail := func(err error) (Layer, error) {
		zw.Close()
		if diff != nil {
			diff.Close()
		}
		w.Abort()
		return Layer{}, err
	}
	bw := bufio.NewWriterSize(out, copyBufferSize)
	if err := writeTar(ctx, bw, entries, to, make([]byte, copyBufferSize), tr.Add); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(fmt.Errorf("compress: %w", err))
	}
	var diffID digest.Digest
	if diff != nil {
		diffID = diff.Sum()
	}
	if release != nil {
		release()
	}
	res, err := w.Commit(ctx)
	if err != nil {
		return Layer{}, err
	}
	if alg == compress.None {
		diffID = res.Descriptor.Digest
	}
	return Layer{Descriptor: res.Descriptor, DiffID: diffID, Reused: res.Reused}, nil
}

// singleFileEntries makes the one-entry tar listing for a file stored
// compressed: the entry is named by the layer's title.
func singleFileEntries(p, title string) ([]entry, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	return []entry{{name: title, path: p, info: fi}}, nil
}
