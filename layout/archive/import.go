package archive

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// Conflict says what happens to a tag the layout already has on
	// another digest; the default fails the whole import.
	Conflict layout.Conflict
	// MaxBytes bounds the decompressed archive, not counting entries of
	// blobs the layout already holds. 0: the free space of the layout's
	// file system minus a reserve in proportion to it (see budget).
	MaxBytes int64
	// Size is the input's size in bytes, for progress (<= 0: unknown).
	Size int64
	// Progress, if not nil, is told about every input byte read.
	Progress layout.Progress
	// Verify, if not nil, runs after the last input byte was read and
	// before any tag changes; the CLI checks the volumes' sidecar here.
	Verify func() error
	// Notify, if not nil, receives informational notices.
	Notify func(string)
	// Documents, if not nil, is called once per archive that carries
	// oci-pack's documents-complete mark (a signed export), before the
	// first blob after the documents is staged, with the blobs the archive
	// held up to there (its manifests, indexes and signature blobs, now
	// stored in the layout). An error stops the import there: nothing
	// more is staged and no tag changes. A gate checks signatures here.
	Documents func(ctx context.Context, blobs []ocispec.Descriptor) error
	// Admit, if not nil, is called with the index.json entries about to
	// be merged (of every archive, after all were read and checked; every
	// blob they reach is stored) before any tag changes. An error stops
	// the import with index.json untouched.
	Admit func(ctx context.Context, idx *ocispec.Index) error
	// Transfer, if not nil, checks each volume set's sidecar before the
	// set is read (Archives.Import; see TransferCheck).
	Transfer TransferCheck
}

// ImportResult describes a finished import.
type ImportResult struct {
	Compression   compress.Algorithm
	Imported      int   // blobs written
	ImportedBytes int64 // their bytes
	Reused        int   // blobs the layout already held (skipped)
	ReusedBytes   int64 // their bytes: what a re-run after an interruption saves
	Tags          []layout.TagChange
	Untagged      int   // untagged index entries added
	Rebuilt       int   // tar layers rebuilt from recipes over their raw twins
	RebuiltBytes  int64 // their bytes
	// RebuiltVolumes names the data volumes rebuilt from parity volumes
	// for this import, with why: "FILE.003 (missing)".
	RebuiltVolumes []string
}

// Import reads an archive — oci-pack's export, skopeo's oci-archive or a
// tar of any layout, optionally gzip- or zstd-compressed as a whole — from
// r to its end and merges it into l.
//
// Each blob entry is staged in l and committed only once its bytes match
// the digest its name gives; blobs l already holds are skipped. The
// archive's index.json and oci-layout are kept in memory. Tags change only
// after the stream ended with a proper end-of-archive marker, o.Verify
// passed, every blob reachable from the archive's index.json is present
// in l with the right size, and every manifest and index there parses;
// then in one index.json update, under o.Conflict. On any error index.json
// is untouched; blobs already committed stay (verified, harmless, and
// what lets a re-run resume; gc removes them if unreferenced).
func Import(ctx context.Context, l *layout.Layout, r io.Reader, o ImportOptions) (*ImportResult, error) {
	return ImportAll(ctx, l, []Source{{R: r, Size: o.Size, Verify: o.Verify}}, o)
}

// readArchive reads one archive from src into l as Import describes, up
// to (not including) the tag changes, and returns its index.json.
func readArchive(ctx context.Context, l *layout.Layout, src Source, o ImportOptions) (idx *ocispec.Index, res *ImportResult, err error) {
	im, err := streamArchive(ctx, l, src, o, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := im.rebuildTwins(ctx, o); err != nil {
		return nil, nil, err
	}
	if err := checkGraph(ctx, l, im.index); err != nil {
		return nil, nil, err
	}
	return im.index, im.res, nil
}

// streamArchive reads one archive from src into l: every entry checked,
// each blob entry staged and committed if its bytes match its name (only
// those in want, when want is not nil), the archive's own index.json kept
// in memory; then src.Verify. On error the importer is returned too (when
// it was made), for what it committed.
func streamArchive(ctx context.Context, l *layout.Layout, src Source, o ImportOptions, want map[digest.Digest]bool) (im *importer, err error) {
	limit, why, over, err := budget(l.Dir(), o.MaxBytes)
	if err != nil {
		return nil, err
	}
	resume := src.Resume
	if want != nil {
		resume = nil // a repair stages only some blobs: nothing to resume
	}
	var early int64 // bytes a resumed import reads to get back where it stopped
	resumed, from, err := resume.begin(ctx, l, o.Notify, func(n int64) { early += n })
	if err != nil {
		return nil, err
	}
	in := &inputReader{r: src.R}
	size := src.Size
	if size > 0 {
		size -= from
	}
	tr := o.Progress.Start(cmp.Or(src.Name, "import"), size)
	in.progress = tr
	in.count(early)
	defer func() { tr.Done(err) }()
	br := bufio.NewReaderSize(in, copyBufferSize)
	alg := compress.None
	if resumed == nil {
		head, _ := br.Peek(6) // short or failed: sniffs as none, and tar reports it
		if f := foreignFormat(head); f != "" {
			return nil, fmt.Errorf("the archive is %s; oci-pack imports tar, tar+gzip and tar+zstd: %w", f, ErrInvalid)
		}
		alg = compress.Sniff(head)
		resume.plain(alg == compress.None)
	}
	rc, err := compress.NewReader(br, alg, -1) // bounded by tarStream
	if err != nil {
		return nil, fmt.Errorf("%s archive: %v: %w", alg, err, ErrInvalid)
	}
	dec := &decoder{alg: alg, rc: rc}
	defer dec.Close()
	im = &importer{
		l:      l,
		s:      &tarStream{ctx: ctx, r: dec, limit: limit, budget: why, over: over},
		res:    &ImportResult{Compression: alg},
		seen:   map[string]string{},
		buf:    make([]byte, copyBufferSize),
		want:   want,
		watch:  &docWatch{fn: o.Documents},
		resume: resume,
	}
	if resumed != nil {
		resume.restore(im, resumed)
	}
	if err := im.read(ctx); err != nil {
		return im, err
	}
	if err := checkIndexDigest(src, im.indexDigest); err != nil {
		return im, err
	}
	if src.Verify != nil {
		if err := src.Verify(); err != nil {
			return im, err
		}
	}
	return im, nil
}

// mergeIndex applies the archive's index.json entries to l in one update:
// tags under policy, untagged entries added unless listed. A
// referrers-tag (sha256-<hex>) index is bookkeeping, not a user's tag: its
// members are recorded as referrers of their own subjects (the layout
// rewrites each subject's referrers index as the union of both sides'), so
// both sides' referrers stay findable, never a tag conflict. Such a tag on
// anything but an index is refused: the name is reserved. cosign's legacy
// signature tag (sha256-<hex>.sig) on a cosign signature manifest is
// merged too: the layout's signatures of that subject and the archive's
// end up in one manifest under the tag (IndexEdit.MergeLegacySignatures),
// whatever the conflict policy.
func mergeIndex(ctx context.Context, l *layout.Layout, src *ocispec.Index, policy layout.Conflict, res *ImportResult) error {
	return l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		res.Tags, res.Untagged = nil, 0
		for _, d := range src.Manifests {
			name, tagged := d.Annotations[ocispec.AnnotationRefName]
			if !tagged {
				n := e.Len()
				if err := e.AddUntagged(d); err != nil {
					return err
				}
				res.Untagged += e.Len() - n
				continue
			}
			if layout.IsReferrersTag(name) && !layout.IsIndex(d.MediaType) {
				return fmt.Errorf("the archive tags %s %q: a name of the form sha256-<digest hex> is reserved for an index of that digest's referrers: %w", d.Digest, name, ErrInvalid)
			}
			if layout.IsReferrersTag(name) {
				doc, err := l.ReadDocument(ctx, d)
				if err != nil {
					return fmt.Errorf("referrers index %s: %w", name, err)
				}
				if err := e.AddReferrers(doc.Manifests...); err != nil {
					return err
				}
				continue
			}
			var ch layout.TagChange
			var err error
			if legacySignature(ctx, l, name, d) {
				ch, err = e.MergeLegacySignatures(name, d)
			} else {
				ch, err = e.Tag(name, d, policy)
			}
			if err != nil {
				return err
			}
			res.Tags = append(res.Tags, ch)
		}
		return nil
	})
}

// legacySignature reports whether the archive's entry d, tagged name, is
// cosign's legacy signature manifest under its sha256-<hex>.sig tag (any
// other manifest under such a name is an ordinary tag).
func legacySignature(ctx context.Context, l *layout.Layout, name string, d ocispec.Descriptor) bool {
	if !layout.IsLegacySignatureTag(name) || !layout.IsManifest(d.MediaType) {
		return false
	}
	doc, err := l.ReadDocument(ctx, d)
	return err == nil && layout.IsLegacySignature(doc)
}

// inputReader is the raw input: it reports progress and marks the
// input's own read errors so they are not mistaken for corruption.
type inputReader struct {
	r        io.Reader
	progress layout.ProgressItem
}

func (i *inputReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	i.count(int64(n))
	if err != nil && err != io.EOF && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrTruncated) {
		err = &inputError{err}
	}
	return n, err
}

// count reports n bytes read from the input (also those a resumed
// import reads before the tar reader starts).
func (i *inputReader) count(n int64) {
	if i.progress.Add != nil {
		i.progress.Add(n)
	}
}

// inputError is a read error of the input itself (an I/O error, not a
// property of the archive).
type inputError struct{ err error }

func (e *inputError) Error() string { return "read archive: " + e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// foreignMagics are the leading bytes of archive and compression formats
// import does not read, so that such input is named, not reported as an
// invalid tar header.
var foreignMagics = []struct {
	magic, name string
}{
	{"\xfd7zXZ\x00", "xz-compressed"},
	{"PK\x03\x04", "a zip file"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip file"},
	{"\x04\x22\x4d\x18", "lz4-compressed"},
	{"\x1f\x9d", "compress(1)-compressed (.Z)"},
}

// foreignFormat names the format whose magic head starts with, if import
// cannot read it ("" otherwise).
func foreignFormat(head []byte) string {
	if len(head) >= 4 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9' {
		return "bzip2-compressed"
	}
	for _, f := range foreignMagics {
		if bytes.HasPrefix(head, []byte(f.magic)) {
			return f.name
		}
	}
	return ""
}
