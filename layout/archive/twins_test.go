package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// twinModel packs a small model with --preset modelpack --image-volume
// into a new layout, tags m (ModelPack) and m-image, and returns the
// layout, the result and the bytes of its files.
func twinModel(t *testing.T) (string, *pack.Result, int64) {
	t.Helper()
	return packModel(t, &pack.ImageVolume{})
}

// packModel is twinModel; with iv nil it packs the ModelPack form alone.
func packModel(t *testing.T, iv *pack.ImageVolume) (string, *pack.Result, int64) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "model")
	files := map[string]int{"model.safetensors": 3<<20 + 5, "config.json": 300, "tokenizer/vocab.txt": 70000, "README.md": 0}
	var total int64
	for name, n := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, randomBytes(fnvHash(name), n), 0o644); err != nil {
			t.Fatal(err)
		}
		total += int64(n)
	}
	dir := filepath.Join(t.TempDir(), "L")
	l := openLayout(t, dir)
	defer l.Close()
	mp, err := pack.LookupPreset("modelpack")
	if err != nil {
		t.Fatal(err)
	}
	res, err := pack.Pack(ctx, l, []pack.Input{{Path: src}}, pack.Options{Preset: mp, Tag: "m", MTime: time.Unix(0, 0), ImageVolume: iv})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res, total
}

func refs(dir string, tags ...string) []layout.Ref {
	var out []layout.Ref
	for _, tg := range tags {
		out = append(out, layout.Ref{Layout: dir, Tag: tg})
	}
	return out
}

// archiveBlobs lists the blob digests an archive carries.
func archiveBlobs(t *testing.T, archive []byte) map[digest.Digest]bool {
	t.Helper()
	out := map[digest.Digest]bool{}
	for _, m := range members(t, archive) {
		if d, ok := strings.CutPrefix(m.hdr.Name, "blobs/sha256/"); ok && d != "" {
			out[digest.NewDigestFromEncoded(digest.SHA256, d)] = true
		}
	}
	return out
}

// TestTwinsCarriedOnce: an export of both forms carries each file's bytes
// once (at most 1.01× the files plus 64 KiB of documents), no tar layer,
// and a recipe document; its import into an empty layout rebuilds every
// tar layer, verify passes, and the receipt lists raw and tar blobs.
func TestTwinsCarriedOnce(t *testing.T) {
	dir, res, total := twinModel(t)
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	er, err := Export(ctx, l, &buf, ExportOptions{Refs: refs(dir, "m", "m-image")})
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	if er.Twins != len(res.Image.Layers) || er.TarBytes != int64(buf.Len()) {
		t.Errorf("export: %d twins (want %d), tar %d bytes, wrote %d", er.Twins, len(res.Image.Layers), er.TarBytes, buf.Len())
	}
	if limit := total + total/100 + 64<<10; int64(buf.Len()) > limit {
		t.Errorf("archive %d bytes, files %d: more than 1.01× + 64 KiB (%d)", buf.Len(), total, limit)
	}
	ms := members(t, buf.Bytes())
	if got := digest.FromBytes(ms[find(t, ms, "index.json")].body); er.Index != got {
		t.Errorf("ExportResult.Index %s, the archive's index.json is %s (a signed transfer names it)", er.Index, got)
	}
	carried := archiveBlobs(t, buf.Bytes())
	for _, lay := range res.Image.Layers {
		if carried[lay.Descriptor.Digest] {
			t.Errorf("tar layer %s (%s) carried whole", lay.Descriptor.Digest, lay.Descriptor.Annotations[ocispec.AnnotationTitle])
		}
	}
	for _, lay := range res.Layers {
		if !carried[lay.Descriptor.Digest] {
			t.Errorf("raw layer %s not carried", lay.Descriptor.Digest)
		}
	}
	tg := newEmptyTarget(t)
	ir, err := importInto(t, tg.dir, bytes.NewReader(buf.Bytes()), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.Rebuilt != len(res.Image.Layers) {
		t.Errorf("rebuilt %d tar layers, want %d", ir.Rebuilt, len(res.Image.Layers))
	}
	layouttest.Check(t, tg.dir)
	rl, err := layout.Open(tg.dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	if rep, err := rl.Verify(ctx, layout.VerifyOptions{}); err != nil || rep.Err() != nil {
		t.Fatalf("verify after import: %v %v", err, rep.Err())
	}
	rc, err := MakeReceipt(ctx, rl)
	if err != nil {
		t.Fatal(err)
	}
	for _, lay := range append(slices.Clone(res.Layers), res.Image.Layers...) {
		if !slices.Contains(rc.Blobs, lay.Descriptor.Digest) {
			t.Errorf("receipt lacks %s", lay.Descriptor.Digest)
		}
	}
	if rc.Tags["m-image"] != res.Image.Index.Digest || rc.Tags["m"] != res.Manifest.Digest {
		t.Errorf("receipt tags %v", rc.Tags)
	}
	// The image is a referrer of the ModelPack manifest: exporting m alone
	// carries it too, still as recipes.
	again := exportBytes(t, dir, ExportOptions{Refs: refs(dir, "m")})
	if n := len(again); n > len(buf.Bytes())+4096 || !archiveBlobs(t, again)[res.Image.Index.Digest] {
		t.Errorf("export of m alone: %d bytes (both tags: %d), image index carried: %v", n, buf.Len(), archiveBlobs(t, again)[res.Image.Index.Digest])
	}
}

// TestTwinsDelta: against a site holding the raw layers, the export
// carries recipes and no file bytes, and the import rebuilds the tar
// layers from what the site holds; against a site holding the tar layers,
// it carries neither and needs no recipe.
func TestTwinsDelta(t *testing.T) {
	dir, res, _ := twinModel(t)
	rawSite := newEmptyTarget(t)
	rawOnly, raw, _ := packModel(t, nil) // the same files, ModelPack form alone
	if raw.Manifest.Digest != res.Manifest.Digest {
		t.Fatalf("ModelPack manifest %s alone, %s beside the image", raw.Manifest.Digest, res.Manifest.Digest)
	}
	mustImport(t, rawSite.dir, exportBytes(t, rawOnly, ExportOptions{Refs: refs(rawOnly, "m")}))
	held := receiptSet(t, rawSite.dir)
	delta := exportBytes(t, dir, ExportOptions{Refs: refs(dir, "m", "m-image"), Exclude: held})
	carried := archiveBlobs(t, delta)
	for _, lay := range append(slices.Clone(res.Layers), res.Image.Layers...) {
		if carried[lay.Descriptor.Digest] {
			t.Errorf("delta against the raw site carries %s", lay.Descriptor.Digest)
		}
	}
	if len(delta) > 64<<10 {
		t.Errorf("delta against the raw site: %d bytes, want documents and recipes only", len(delta))
	}
	ir, err := importInto(t, rawSite.dir, bytes.NewReader(delta), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.Rebuilt != len(res.Image.Layers) {
		t.Errorf("rebuilt %d, want %d", ir.Rebuilt, len(res.Image.Layers))
	}
	layouttest.Check(t, rawSite.dir)

	// A site holding only the image form.
	tarSite := newEmptyTarget(t)
	mustImport(t, tarSite.dir, exportBytes(t, dir, ExportOptions{Refs: refs(dir, "m-image")}))
	delta = exportBytes(t, dir, ExportOptions{Refs: refs(dir, "m", "m-image"), Exclude: receiptSet(t, tarSite.dir)})
	carried = archiveBlobs(t, delta)
	for _, lay := range res.Image.Layers {
		if carried[lay.Descriptor.Digest] {
			t.Errorf("delta against the tar site carries tar layer %s", lay.Descriptor.Digest)
		}
	}
	for _, lay := range res.Layers {
		if !carried[lay.Descriptor.Digest] {
			t.Errorf("delta against the tar site lacks raw layer %s", lay.Descriptor.Digest)
		}
	}
	if _, err := importInto(t, tarSite.dir, bytes.NewReader(delta), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	layouttest.Check(t, tarSite.dir)
}

func mustImport(t *testing.T, dir string, archive []byte) {
	t.Helper()
	if _, err := importInto(t, dir, bytes.NewReader(archive), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

func receiptSet(t *testing.T, dir string) map[digest.Digest]bool {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r, err := MakeReceipt(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	return r.Set()
}

// TestTwinsFull: FullTwins carries the tar layers whole and lists no
// recipe: a plain tar -x of it is a complete layout.
func TestTwinsFull(t *testing.T) {
	dir, res, _ := twinModel(t)
	a := exportBytes(t, dir, ExportOptions{Refs: refs(dir, "m", "m-image"), FullTwins: true})
	carried := archiveBlobs(t, a)
	for _, lay := range res.Image.Layers {
		if !carried[lay.Descriptor.Digest] {
			t.Errorf("--full-twins lacks %s", lay.Descriptor.Digest)
		}
	}
	if bytes.Contains(a, []byte(AnnotationTwins)) {
		t.Error("--full-twins lists recipe documents")
	}
}

// TestTwinsTampered: a recipe document changed in place (its name no
// longer its digest), a recipe changed and renamed consistently (index.json
// listing the new document), a raw blob changed, and a recipe document
// listed but missing: each import fails with an integrity error and leaves
// index.json as it was.
func TestTwinsTampered(t *testing.T) {
	dir, res, _ := twinModel(t)
	good := exportBytes(t, dir, ExportOptions{Refs: refs(dir, "m", "m-image")})
	ms := members(t, good)
	var idx ocispec.Index
	if err := json.Unmarshal(ms[find(t, ms, "index.json")].body, &idx); err != nil {
		t.Fatal(err)
	}
	docName := "blobs/sha256/" + digest.Digest(idx.Annotations[AnnotationTwins]).Encoded()
	big := slices.MaxFunc(res.Layers, func(a, b pack.Layer) int { return int(a.Descriptor.Size - b.Descriptor.Size) })
	rawName := "blobs/sha256/" + big.Descriptor.Digest.Encoded()

	inPlace := slices.Clone(ms)
	di := find(t, inPlace, docName)
	inPlace[di].body = bytes.Replace(inPlace[di].body, []byte(`"suffix":`), []byte(`"suffix": `), 1)

	renamed := slices.Clone(ms)
	di = find(t, renamed, docName)
	var doc twinsDoc
	if err := json.Unmarshal(renamed[di].body, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Twins[0].Prefix = slices.Clone(doc.Twins[0].Prefix)
	doc.Twins[0].Prefix[0] ^= 1 // another name in the first header
	nb, _ := json.Marshal(doc)
	renamed[di].body = nb
	renamed[di].hdr.Name = "blobs/sha256/" + digest.FromBytes(nb).Encoded()
	idx2 := idx
	idx2.Annotations = map[string]string{AnnotationTwins: digest.FromBytes(nb).String()}
	ib, _ := json.Marshal(idx2)
	renamed[find(t, renamed, "index.json")].body = ib

	rawBad := slices.Clone(ms)
	ri := find(t, rawBad, rawName)
	rawBad[ri].body = slices.Clone(rawBad[ri].body)
	rawBad[ri].body[len(rawBad[ri].body)/2] ^= 0xff

	missing := slices.Delete(slices.Clone(ms), find(t, ms, docName), find(t, ms, docName)+1)

	for name, ms := range map[string][]member{"recipe changed in place": inPlace, "recipe changed and renamed": renamed, "raw blob changed": rawBad, "recipe document missing": missing} {
		tg := newTarget(t)
		_, err := importInto(t, tg.dir, bytes.NewReader(build(t, ms)), ImportOptions{})
		t.Logf("%s: %v", name, err)
		if !errors.Is(err, cas.ErrDigestMismatch) && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want a digest mismatch", name, err)
		}
		tg.unchanged(t)
	}
}

// TestTwinsAnnotationLies: a tar layer whose tar-of annotation names a raw
// blob of the same size that it does not hold is found out while
// exporting, and carried whole.
func TestTwinsAnnotationLies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "L")
	l := openLayout(t, dir)
	a, b := randomBytes(1, 5000), randomBytes(2, 5000)
	put := func(body []byte, mt string) ocispec.Descriptor {
		r, err := l.Blobs().Put(ctx, bytes.NewReader(body), ocispec.Descriptor{MediaType: mt})
		if err != nil {
			t.Fatal(err)
		}
		return r.Descriptor
	}
	rawB := put(b, "application/octet-stream")
	rawB.Annotations = map[string]string{ocispec.AnnotationTitle: "b"}
	ft, err := modelcar.NewFileTar("models", "a", int64(len(a)), 0o644, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var tb bytes.Buffer
	tb.Write(ft.Prefix)
	tb.Write(a)
	ft.WriteSuffix(&tb)
	tarA := put(tb.Bytes(), ocispec.MediaTypeImageLayer)
	tarA.Annotations = map[string]string{ocispec.AnnotationTitle: "a", layout.AnnotationTarOf: rawB.Digest.String()}
	img, err := modelcar.Build(ctx, l, modelcar.Spec{Layers: []modelcar.Layer{{Descriptor: tarA, Name: ft.Name}}})
	if err != nil {
		t.Fatal(err)
	}
	art, err := pack.BuildManifest(ctx, l, pack.ManifestSpec{ArtifactType: "application/x.t", Layers: []ocispec.Descriptor{rawB}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.TagAll(ctx, img.Index, layout.ConflictFail, "img"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.TagAll(ctx, art, layout.ConflictFail, "raw"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	var buf bytes.Buffer
	rl, _ := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	er, err := Export(ctx, rl, &buf, ExportOptions{Refs: refs(dir, "img", "raw")})
	rl.Close()
	if err != nil {
		t.Fatal(err)
	}
	if er.Twins != 0 || !archiveBlobs(t, buf.Bytes())[tarA.Digest] {
		t.Fatalf("a lying tar-of: %d twins, tar layer carried: %v", er.Twins, archiveBlobs(t, buf.Bytes())[tarA.Digest])
	}
	tg := newEmptyTarget(t)
	if _, err := importInto(t, tg.dir, bytes.NewReader(buf.Bytes()), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	layouttest.Check(t, tg.dir)
}
