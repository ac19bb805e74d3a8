package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// exportTwin is a tar layer an export carries as a recipe.
type exportTwin struct {
	recipe  twinRecipe
	tar     planned        // the layer left out
	shipped bool           // its raw blob is in the archive (else the receiving site holds it)
	hash    *cas.AsyncHash // prefix + raw + zeros, while the raw blob is read
	ok      bool           // the recipe rebuilds the layer: checked while exporting
}

// exportTwins are the recipes of one export.
type exportTwins struct {
	byRaw map[digest.Digest][]*exportTwin
	list  []*exportTwin // by tar digest
	docs  [][]byte      // the recipe documents, in archive order
}

// planTwins replaces every tar layer of the plan that is a twin of a raw
// blob the archive carries (or the receiving site holds, by o.Exclude)
// with its recipe, and lists the recipe documents in the archive's
// index.json. A layer whose head does not read as one file of the raw
// blob's size, or whose raw blob is not stored here, stays whole. Nothing
// is trusted yet: writeTar hashes header + raw bytes + zeros and carries
// the layer whole after all if that is not its digest.
func (p *exportPlan) planTwins(ctx context.Context, l *layout.Layout, o ExportOptions) error {
	if p.index.Annotations[AnnotationTwins] != "" { // a layout made by tar -x of an archive
		p.index.Annotations = maps.Clone(p.index.Annotations)
		delete(p.index.Annotations, AnnotationTwins)
	}
	if o.FullTwins {
		return nil
	}
	inArchive := map[digest.Digest]planned{}
	for _, b := range p.blobs {
		inArchive[b.desc.Digest] = b
	}
	t := &exportTwins{byRaw: map[digest.Digest][]*exportTwin{}}
	keep := p.blobs[:0:0]
	for _, b := range p.blobs {
		tw, err := findTwin(ctx, l, b, inArchive, o.Exclude)
		if err != nil {
			return err
		}
		if tw == nil {
			keep = append(keep, b)
			continue
		}
		t.byRaw[tw.recipe.Of.Digest] = append(t.byRaw[tw.recipe.Of.Digest], tw)
		t.list = append(t.list, tw)
	}
	if len(t.list) == 0 {
		return nil
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].recipe.Digest < t.list[j].recipe.Digest })
	recipes := make([]twinRecipe, len(t.list))
	for i, tw := range t.list {
		recipes[i] = tw.recipe
	}
	docs, err := encodeTwins(recipes)
	if err != nil {
		return fmt.Errorf("export %s: %w", l.Dir(), err)
	}
	t.docs = docs
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = digest.FromBytes(d).String()
	}
	p.index.Annotations = maps.Clone(p.index.Annotations)
	if p.index.Annotations == nil {
		p.index.Annotations = map[string]string{}
	}
	p.index.Annotations[AnnotationTwins] = strings.Join(names, ",")
	p.blobs = keep
	p.twins = t
	return nil
}

// findTwin returns the recipe export of b, or nil when b is not a layer
// carrying layout.AnnotationTarOf whose raw twin travels or is held.
func findTwin(ctx context.Context, l *layout.Layout, b planned, inArchive map[digest.Digest]planned, held map[digest.Digest]bool) (*exportTwin, error) {
	d := b.desc
	v, ok := d.Annotations[layout.AnnotationTarOf]
	if b.class != classLayer || !ok || d.MediaType != ocispec.MediaTypeImageLayer {
		return nil, nil
	}
	raw, err := cas.ParseDigest(v)
	if err != nil || raw == d.Digest {
		return nil, nil // not ours to repair here; the layer travels whole
	}
	tw := &exportTwin{tar: b}
	var rawSize int64
	if rb, ok := inArchive[raw]; ok && rb.class == classLayer {
		tw.shipped, rawSize = true, rb.desc.Size
	} else if held[raw] {
		info, err := l.Blobs().Stat(ctx, raw)
		if err != nil {
			return nil, nil // not stored here: the recipe could not be checked
		}
		rawSize = info.Size
	} else {
		return nil, nil
	}
	prefix, suffix, ok, err := readTwinHead(ctx, l, d, rawSize)
	if err != nil || !ok {
		return nil, err
	}
	tw.recipe = twinRecipe{Digest: d.Digest, Size: d.Size, Of: twinOf{Digest: raw, Size: rawSize}, Prefix: prefix, Suffix: suffix}
	if tw.recipe.check() != nil {
		return nil, nil
	}
	return tw, nil
}

// readTwinHead reads the head of the tar layer d: directory entries, then
// one regular file of rawSize bytes. It returns the bytes before the
// file's data and the number of bytes after it, or ok false when the layer
// is not of that shape.
func readTwinHead(ctx context.Context, l *layout.Layout, d ocispec.Descriptor, rawSize int64) (prefix []byte, suffix int64, ok bool, err error) {
	f, err := l.Blobs().Open(ctx, d.Digest)
	if err != nil {
		return nil, 0, false, fmt.Errorf("export %s: %w", d.Digest, err)
	}
	defer f.Close()
	var head bytes.Buffer
	tr := tar.NewReader(io.TeeReader(io.LimitReader(f, maxTwinPrefix), &head))
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, 0, false, nil
		}
		switch {
		case hdr.Typeflag == tar.TypeDir && hdr.Size == 0:
			continue
		case hdr.Typeflag != tar.TypeReg || hdr.Size != rawSize:
			return nil, 0, false, nil
		}
		// archive/tar has read exactly the headers: the data starts here.
		n := int64(head.Len())
		suffix = d.Size - n - rawSize
		if n%blockSize != 0 || suffix < 0 || suffix > maxTwinSuffix {
			return nil, 0, false, nil
		}
		return head.Bytes(), suffix, true, nil
	}
}

// tee returns a writer hashing the recipes of raw blob d as its bytes go
// into the archive (nil when it has no twin).
func (t *exportTwins) tee(d digest.Digest) io.Writer {
	if t == nil || len(t.byRaw[d]) == 0 {
		return nil
	}
	var ws []io.Writer
	for _, tw := range t.byRaw[d] {
		tw.hash = cas.NewAsyncHash(tw.recipe.Digest.Algorithm())
		tw.hash.Write(tw.recipe.Prefix)
		ws = append(ws, tw.hash)
	}
	return io.MultiWriter(ws...)
}

// finish ends the hashes tee started for raw blob d: ok tells whether it
// was read whole (else they are dropped).
func (t *exportTwins) finish(d digest.Digest, ok bool) {
	if t == nil {
		return
	}
	for _, tw := range t.byRaw[d] {
		if tw.hash == nil {
			continue
		}
		if !ok {
			tw.hash.Close()
			tw.hash = nil
			continue
		}
		writeZeros(tw.hash, tw.recipe.Suffix) // an AsyncHash never fails
		tw.ok = tw.hash.Sum() == tw.recipe.Digest
		tw.hash = nil
	}
}

// write completes the twins after the planned blobs: it checks the recipes
// whose raw blob stays at the receiving site (reading it here), carries
// whole every layer whose recipe does not give its digest, and writes the
// recipe documents.
func (t *exportTwins) write(ctx context.Context, l *layout.Layout, tw *tar.Writer, buf []byte, res *ExportResult) error {
	if t == nil {
		return nil
	}
	checked := map[digest.Digest]bool{}
	for _, x := range t.list {
		if d := x.recipe.Of.Digest; !x.shipped && !checked[d] {
			checked[d] = true
			if err := t.checkHeld(ctx, l, d); err != nil {
				return err
			}
		}
	}
	for _, x := range t.list {
		if x.ok {
			res.Twins++
			res.TwinBytes += x.recipe.Size
			continue
		}
		if err := writeBlob(ctx, l, tw, x.tar, buf, nil); err != nil {
			return err
		}
		res.Blobs++
		res.BlobBytes += x.tar.desc.Size
	}
	for _, doc := range t.docs {
		name, _ := cas.BlobPath(digest.FromBytes(doc))
		if err := writeFile(tw, name, doc); err != nil {
			return err
		}
		res.Blobs++
		res.BlobBytes += int64(len(doc))
	}
	return nil
}

// checkHeld hashes the recipes of raw blob d, which the archive does not
// carry, by reading d here (once for all of them).
func (t *exportTwins) checkHeld(ctx context.Context, l *layout.Layout, d digest.Digest) error {
	w := t.tee(d)
	rc, err := l.Blobs().OpenVerified(ctx, t.byRaw[d][0].rawDesc())
	if err != nil {
		t.finish(d, false)
		return fmt.Errorf("export: raw twin %s of %s: %w", d, t.byRaw[d][0].tar.where, err)
	}
	defer rc.Close()
	_, err = io.CopyBuffer(w, ctxReader{ctx, rc}, make([]byte, copyBufferSize))
	t.finish(d, err == nil)
	if err != nil {
		return fmt.Errorf("export: raw twin %s of %s: %w", d, t.byRaw[d][0].tar.where, err)
	}
	return nil
}

func (tw *exportTwin) rawDesc() ocispec.Descriptor { return tw.recipe.rawDesc() }

// size is what the twins add to the tar stream: the recipe documents.
func (t *exportTwins) size() int64 {
	if t == nil {
		return 0
	}
	var n int64
	for _, d := range t.docs {
		n += blockSize + padded(int64(len(d)))
	}
	return n
}

// writeZeros writes n zero bytes to w.
func writeZeros(w io.Writer, n int64) error {
	var zeros [blockSize]byte
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
