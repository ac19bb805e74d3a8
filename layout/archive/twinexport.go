package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
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

// exportTwin is a tar layer an export carries as a recipe. Its header
// bytes are not kept: they are read again from the layer (at most
// maxTwinPrefix bytes) when the raw blob streams and when the recipe
// document is written, so memory does not grow with them.
type exportTwin struct {
	tar       planned // the layer left out
	raw       ocispec.Descriptor
	prefixLen int64
	suffix    int64
	shipped   bool           // its raw blob is in the archive (else the receiving site holds it)
	hash      *cas.AsyncHash // prefix + raw + zeros, while the raw blob is read
	ok        bool           // the recipe rebuilds the layer: checked while exporting
}

// exportTwins are the recipes of one export.
type exportTwins struct {
	byRaw map[digest.Digest][]*exportTwin
	list  []*exportTwin   // by tar digest
	docs  [][]*exportTwin // list cut into recipe documents
}

// planTwins takes out of the plan every tar layer that is a twin of a raw
// blob the archive carries (or the receiving site holds, by o.Exclude),
// to be carried as a recipe (writeTar: tee, finish, write). A layer whose
// head does not read as one file of the raw blob's size, or whose raw blob
// is not stored here, stays whole. Nothing is trusted yet: header + raw
// bytes + zeros are hashed while exporting, and a layer they do not give
// travels whole after all.
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
		t.byRaw[tw.raw.Digest] = append(t.byRaw[tw.raw.Digest], tw)
		t.list = append(t.list, tw)
	}
	if len(t.list) == 0 {
		return nil
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].tar.desc.Digest < t.list[j].tar.desc.Digest })
	t.docs = cutTwinDocs(t.list)
	if len(t.docs) > maxTwinsDocs {
		return fmt.Errorf("export %s: %d recipe documents, more than the %d an import reads: %w", l.Dir(), len(t.docs), maxTwinsDocs, ErrTooLarge)
	}
	p.blobs = keep
	p.twins = t
	return nil
}

// recipeBound is an upper bound of a recipe's JSON beside its base64
// header bytes: keys, two digests, three numbers, punctuation.
const recipeBound = 320

// recipeSize bounds the JSON of the recipe of tw.
func (tw *exportTwin) recipeSize() int64 { return recipeBound + 4*((tw.prefixLen+2)/3) }

// cutTwinDocs cuts list, in order, into documents of at most maxTwinsDoc
// bytes each (by recipeSize).
func cutTwinDocs(list []*exportTwin) [][]*exportTwin {
	var docs [][]*exportTwin
	start, size := 0, int64(128)
	for i, tw := range list {
		if size+tw.recipeSize() > maxTwinsDoc && i > start {
			docs = append(docs, list[start:i])
			start, size = i, 128
		}
		size += tw.recipeSize()
	}
	return append(docs, list[start:])
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
		return nil, nil // not ours to judge here; the layer travels whole
	}
	tw := &exportTwin{tar: b, raw: ocispec.Descriptor{Digest: raw}}
	if rb, ok := inArchive[raw]; ok && rb.class == classLayer {
		tw.shipped, tw.raw.Size = true, rb.desc.Size
	} else if held[raw] {
		info, err := l.Blobs().Stat(ctx, raw)
		if err != nil {
			return nil, nil // not stored here: the recipe could not be checked
		}
		tw.raw.Size = info.Size
	} else {
		return nil, nil
	}
	prefix, suffix, ok, err := readTwinHead(ctx, l, d, tw.raw.Size)
	if err != nil || !ok {
		return nil, err
	}
	tw.prefixLen, tw.suffix = int64(len(prefix)), suffix
	if r := tw.recipe(prefix); r.check() != nil {
		return nil, nil
	}
	return tw, nil
}

func (tw *exportTwin) recipe(prefix []byte) twinRecipe {
	return twinRecipe{Digest: tw.tar.desc.Digest, Size: tw.tar.desc.Size, Of: twinOf{Digest: tw.raw.Digest, Size: tw.raw.Size}, Prefix: prefix, Suffix: tw.suffix}
}

// prefix reads tw's header bytes again; an error or a head that changed
// since planning (it cannot: blobs are immutable) is an error.
func (tw *exportTwin) prefix(ctx context.Context, l *layout.Layout) ([]byte, error) {
	prefix, suffix, ok, err := readTwinHead(ctx, l, tw.tar.desc, tw.raw.Size)
	if err != nil {
		return nil, err
	}
	if !ok || int64(len(prefix)) != tw.prefixLen || suffix != tw.suffix {
		return nil, fmt.Errorf("export %s (%s): its tar header changed while exporting: %w", tw.tar.desc.Digest, tw.tar.where, layout.ErrCorrupt)
	}
	return prefix, nil
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
// into the archive (nil when it has none). A twin whose header bytes
// cannot be read again is left unchecked: it travels whole.
func (t *exportTwins) tee(ctx context.Context, l *layout.Layout, d digest.Digest) io.Writer {
	if t == nil || len(t.byRaw[d]) == 0 {
		return nil
	}
	var ws []io.Writer
	for _, tw := range t.byRaw[d] {
		prefix, err := tw.prefix(ctx, l)
		if err != nil {
			continue
		}
		tw.hash = cas.NewAsyncHash(tw.tar.desc.Digest.Algorithm())
		tw.hash.Write(prefix)
		ws = append(ws, tw.hash)
	}
	if len(ws) == 0 {
		return nil
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
		writeZeros(tw.hash, tw.suffix) // an AsyncHash never fails
		tw.ok = tw.hash.Sum() == tw.tar.desc.Digest
		tw.hash = nil
	}
}

// write completes the twins after the planned blobs: it checks the recipes
// whose raw blob stays at the receiving site (reading it here), carries
// whole every layer whose recipe does not give its digest, writes the
// recipe documents and lists them in the archive's index.json.
func (t *exportTwins) write(ctx context.Context, l *layout.Layout, p *exportPlan, tw *tar.Writer, buf []byte, res *ExportResult) error {
	if t == nil {
		return nil
	}
	checked := map[digest.Digest]bool{}
	for _, x := range t.list {
		if d := x.raw.Digest; !x.shipped && !checked[d] {
			checked[d] = true
			if err := t.checkHeld(ctx, l, d, buf); err != nil {
				return err
			}
		}
	}
	for _, x := range t.list {
		if x.ok {
			res.Twins++
			res.TwinBytes += x.tar.desc.Size
			continue
		}
		if err := writeBlob(ctx, l, tw, x.tar, buf, nil); err != nil {
			return err
		}
		res.Blobs++
		res.BlobBytes += x.tar.desc.Size
	}
	names := make([]string, 0, len(t.docs))
	for _, list := range t.docs {
		doc, err := encodeTwinsDoc(ctx, l, list)
		if err != nil {
			return err
		}
		d := digest.FromBytes(doc)
		name, _ := cas.BlobPath(d)
		if err := writeFile(tw, name, doc); err != nil {
			return err
		}
		names = append(names, d.String())
		res.Blobs++
		res.BlobBytes += int64(len(doc))
	}
	p.index.Annotations = maps.Clone(p.index.Annotations)
	if p.index.Annotations == nil {
		p.index.Annotations = map[string]string{}
	}
	p.index.Annotations[AnnotationTwins] = strings.Join(names, ",")
	return nil
}

// encodeTwinsDoc writes the recipe document of list.
func encodeTwinsDoc(ctx context.Context, l *layout.Layout, list []*exportTwin) ([]byte, error) {
	doc := twinsDoc{MediaType: TwinsMediaType, Twins: make([]twinRecipe, 0, len(list))}
	for _, x := range list {
		prefix, err := x.prefix(ctx, l)
		if err != nil {
			return nil, err
		}
		doc.Twins = append(doc.Twins, x.recipe(prefix))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if len(b) > maxTwinsDoc { // recipeSize bounds it; a bug if not
		return nil, fmt.Errorf("recipe document of %d bytes, more than %d", len(b), maxTwinsDoc)
	}
	return b, nil
}

// checkHeld hashes the recipes of raw blob d, which the archive does not
// carry, by reading d here (once for all of them).
func (t *exportTwins) checkHeld(ctx context.Context, l *layout.Layout, d digest.Digest, buf []byte) error {
	w := t.tee(ctx, l, d)
	if w == nil {
		return nil
	}
	first := t.byRaw[d][0]
	rc, err := l.Blobs().OpenVerified(ctx, first.raw)
	if err != nil {
		t.finish(d, false)
		return fmt.Errorf("export: raw twin %s of %s: %w", d, first.tar.where, err)
	}
	defer rc.Close()
	_, err = io.CopyBuffer(w, cas.ContextReader(ctx, rc), buf)
	t.finish(d, err == nil)
	if err != nil {
		return fmt.Errorf("export: raw twin %s of %s: %w", d, first.tar.where, err)
	}
	return nil
}

// size bounds what the twins add to the tar stream: the recipe documents
// (for progress).
func (t *exportTwins) size() int64 {
	if t == nil {
		return 0
	}
	var n int64
	for _, list := range t.docs {
		var doc int64 = 128
		for _, x := range list {
			doc += x.recipeSize()
		}
		n += blockSize + padded(doc)
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
