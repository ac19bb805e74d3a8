package archive

import (
	"archive/tar"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Refs limits the export to these refs' graphs, with their
	// referrers; a ref given as a tag keeps its tag. Empty: every entry
	// of index.json.
	Refs []layout.Ref
	// Exclude names blobs the receiving site already holds (its
	// receipt). They are left out, except manifests and indexes.
	Exclude map[digest.Digest]bool
	// AllowMissing leaves out referenced blobs the layout lacks instead
	// of failing (the result is a sparse layout).
	AllowMissing bool
	// Progress, if not nil, is told about every byte of the tar stream.
	Progress layout.Progress
	// Compression compresses the whole stream ("" or none: plain tar);
	// Level is the codec's level (0: its default) and Jobs the
	// compressor's concurrency.
	Compression compress.Algorithm
	Level       int
	Jobs        int
	// FullTwins carries image-volume tar layers whole even when their raw
	// twin travels too (by default they go as recipes: twins.go), for
	// readers of the archive other than oci-pack's import.
	FullTwins bool
	// Signed: the caller signs the transfer once ExportFile returns
	// (layout/sign's FILE.sigstore.json beside the sidecar), replacing
	// the bundle an earlier signed export left there. Without it that
	// stale bundle, which vouched for another sidecar, is removed.
	Signed bool
	// Notify, if not nil, receives informational notices (a resumed
	// export, a resume state not used and why).
	Notify func(string)
	// Parity is how many parity volumes ExportFile writes beside split
	// volumes (FILE.par0, …), computed as the stream is written: any
	// Parity of the volumes, data or parity, can then be lost or damaged
	// and rebuilt (Repair, or import). 0: none.
	Parity int
}

// ExportResult describes a finished export.
type ExportResult struct {
	Entries       int             // index.json entries (tags and untagged)
	Blobs         int             // blobs written
	BlobBytes     int64           // their bytes
	Excluded      int             // blobs left out by Exclude
	ExcludedBytes int64           // their bytes
	Missing       []digest.Digest // blobs left out by AllowMissing
	TarBytes      int64           // bytes of the tar stream (before any compression)
	Compression   compress.Algorithm
	Index         digest.Digest // digest of the archive's index.json (what a signed transfer names)
	Twins         int           // tar layers carried as recipes over their raw twins
	TwinBytes     int64         // their bytes, not carried
	Sidecar       string        // the checksum file ExportFile wrote ("" for a stream)
	Parity        []Volume      // parity volumes ExportFile wrote (ExportOptions.Parity)
	Kept          int           // volumes an interrupted run of the same export had finished, kept (ExportFile)
}

// layoutFile is the oci-layout every export carries.
var layoutFile = []byte(`{"imageLayoutVersion":"` + layout.LayoutVersion + `"}`)

// Export writes a PAX tar of the layout (or of o.Refs' graphs) to w:
// oci-layout, the blobs directories, every blob (manifests and indexes,
// then configs, then layers, each group in digest order), and index.json
// last, the commit marker. Header fields are fixed (uid/gid 0, no user or
// group names, mtime 0, mode 0644/0755), so the same input gives the same
// bytes. Every blob is re-hashed as it is copied and the export fails on
// the first byte that does not match; w then holds a tar without
// index.json or end-of-archive marker, which Import rejects. Export never
// closes w.
func Export(ctx context.Context, l *layout.Layout, w io.Writer, o ExportOptions) (*ExportResult, error) {
	p, err := plan(ctx, l, o)
	if err != nil {
		return nil, err
	}
	return p.export(ctx, l, w, o)
}

// export writes the planned archive to w, as Export describes. A resumed
// export (ExportFile) writes the whole stream too: the volume writer
// compares the bytes its kept volumes hold with it, instead of writing
// them (exportresume.go).
func (p *exportPlan) export(ctx context.Context, l *layout.Layout, w io.Writer, o ExportOptions) (*ExportResult, error) {
	res := &ExportResult{Entries: len(p.index.Manifests), Excluded: p.excluded, ExcludedBytes: p.excludedBytes, Missing: p.missing, Compression: cmp.Or(o.Compression, compress.None)}
	err := compressTo(w, o, func(w io.Writer) error { return writeTar(ctx, l, p, w, o.Progress, res) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

// writeTar writes the planned archive to w and counts it in res.
func writeTar(ctx context.Context, l *layout.Layout, p *exportPlan, w io.Writer, prog layout.Progress, res *ExportResult) (err error) {
	idx := mustMarshal(p.index) // for progress; the twins add their annotation below
	cw := &countingWriter{w: w}
	prog.Total(p.tarSize(len(idx)))
	tr := prog.Start("export", p.tarSize(len(idx)))
	cw.progress = tr
	defer func() { tr.Done(err) }()
	tw := tar.NewWriter(cw)
	if err := writeFile(tw, layout.LayoutFile, layoutFile); err != nil {
		return err
	}
	for _, dir := range p.dirs() {
		if err := tw.WriteHeader(header(tar.TypeDir, dir, 0)); err != nil {
			return fmt.Errorf("write archive entry %q: %w", dir, err)
		}
	}
	buf := make([]byte, copyBufferSize)
	for _, b := range p.blobs {
		err := writeBlob(ctx, l, tw, b, buf, p.twins.tee(ctx, l, b.desc.Digest))
		p.twins.finish(b.desc.Digest, err == nil)
		if err != nil {
			return err
		}
		res.Blobs++
		res.BlobBytes += b.desc.Size
	}
	if err := p.twins.write(ctx, l, p, tw, buf, res); err != nil {
		return err
	}
	idx = mustMarshal(p.index) // now listing the recipe documents, if any
	res.Index = digest.FromBytes(idx)
	if err := writeFile(tw, layout.IndexFile, idx); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish archive: %w", err)
	}
	res.TarBytes = cw.n
	return nil
}

// writeBlob copies one blob into the archive, hashing it on the way, and
// into tee if not nil.
func writeBlob(ctx context.Context, l *layout.Layout, tw *tar.Writer, b planned, buf []byte, tee io.Writer) error {
	name, err := cas.BlobPath(b.desc.Digest)
	if err != nil {
		return err
	}
	rc, err := l.Blobs().OpenVerified(ctx, b.desc)
	if err != nil {
		return fmt.Errorf("export %s (%s): %w", b.desc.Digest, b.where, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(withMark(header(tar.TypeReg, name, b.desc.Size), b)); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	var w io.Writer = tw
	if tee != nil {
		w = io.MultiWriter(tw, tee)
	}
	if _, err := io.CopyBuffer(w, cas.ContextReader(ctx, rc), buf); err != nil {
		return fmt.Errorf("export %s (%s): %w", b.desc.Digest, b.where, err)
	}
	return nil
}

func writeFile(tw *tar.Writer, name string, content []byte) error {
	if err := tw.WriteHeader(header(tar.TypeReg, name, int64(len(content)))); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	if _, err := tw.Write(content); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	return nil
}

// header is the one place archive headers are made: everything that could
// vary between machines or runs is fixed.
func header(typ byte, name string, size int64) *tar.Header {
	mode := int64(0o644)
	if typ == tar.TypeDir {
		mode = 0o755
	}
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Size:     size,
		Mode:     mode,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatPAX,
	}
}

// dirs lists the directory entries: blobs/ and blobs/<alg>/ for every
// algorithm used, sorted.
func (p *exportPlan) dirs() []string {
	algs := map[string]bool{}
	for _, b := range p.blobs {
		algs[b.desc.Digest.Algorithm().String()] = true
	}
	out := []string{layout.BlobsDir + "/"}
	for a := range algs {
		out = append(out, layout.BlobsDir+"/"+a+"/")
	}
	sort.Strings(out[1:])
	return out
}

// tarSize is the size of the tar stream the plan writes, for progress.
// Headers needing PAX records (blobs of 8 GiB and more) make it a little
// larger.
func (p *exportPlan) tarSize(indexSize int) int64 {
	n := int64(2*blockSize) + padded(int64(len(layoutFile))) + padded(int64(indexSize)) + 2*blockSize
	n += int64(len(p.dirs())) * blockSize
	for _, b := range p.blobs {
		n += blockSize + padded(b.desc.Size)
		if b.mark {
			n += 2 * blockSize // the PAX header carrying the mark
		}
	}
	return n + p.twins.size()
}

// padded rounds n up to whole tar blocks.
func padded(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings and numbers are marshalled
	}
	return b
}

// countingWriter counts bytes and reports them to a progress tracker.
type countingWriter struct {
	w        io.Writer
	n        int64
	progress layout.ProgressItem
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.progress.Add != nil {
		c.progress.Add(int64(n))
	}
	return n, err
}
