package archive

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fuzztest"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
)

// Bounds of one fuzz input: the archive as given, and what it may expand
// to and write (Import's budget).
const (
	fuzzMaxInput = 1 << 20
	fuzzBudget   = 4 << 20
)

// FuzzImport feeds arbitrary bytes to Import as an archive (plain,
// gzip or zstd: Import sniffs) into a copy of a layout tagged v0.
// Properties, for every input (checkImport): no panic, no hang, nothing
// outside the layout created or changed, nothing in it but its own
// top-level names, every blob added named by the digest of its content
// and of mode 0444 or 0644, no staging left. After a failure: index.json
// byte-identical, and an error of the integrity or conflict class (never
// a usage error, never unclassified, no raw control characters). After
// success: the layout passes layouttest.Validate (index.json and every
// reachable document strict and schema-valid, as verify requires), no
// existing tag moved, the reported tags and blob count true.
func FuzzImport(f *testing.F) {
	tmpl := fuzzTemplate(f)
	for name, b := range importSeeds(f, tmpl) {
		fuzztest.Seed(f, name, b)
	}
	f.Fuzz(func(t *testing.T, archive []byte) {
		if len(archive) > fuzzMaxInput {
			return
		}
		checkImport(t, tmpl, archive)
	})
}

// FuzzImportEntries is FuzzImport on archives built from a
// fuzztest.TarScript, compressed by alg%3 (none, gzip, zstd): the fuzzer
// edits names, types and bodies — and blobs stay named by their digest —
// without breaking tar's checksums, so it reaches the graph check and the
// tag merge.
func FuzzImportEntries(f *testing.F) {
	tmpl := fuzzTemplate(f)
	for name, script := range importScripts(f, tmpl) {
		for alg := range byte(3) {
			fuzztest.Seed(f, name+"-"+string(fuzzAlgs[alg]), script, alg)
		}
	}
	f.Fuzz(func(t *testing.T, script string, alg byte) {
		if len(script) > fuzzMaxInput {
			return
		}
		b, err := fuzztest.TarScript(script)
		if err != nil {
			return
		}
		checkImport(t, tmpl, fuzzCompress(t, b, fuzzAlgs[alg%3]))
	})
}

var fuzzAlgs = []compress.Algorithm{compress.None, compress.Gzip, compress.Zstd}

// fuzzZstd is one encoder for every input: making one per input (as
// compress.NewWriter does) costs more than the import.
var fuzzZstd, _ = zstd.NewWriter(nil)

// fuzzCompress compresses b with alg, cheaply.
func fuzzCompress(t *testing.T, b []byte, alg compress.Algorithm) []byte {
	switch alg {
	case compress.Zstd:
		return fuzzZstd.EncodeAll(b, nil)
	case compress.Gzip:
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	return b
}

// fuzzTemplate makes the layout each input is imported into a copy of:
// tag v0 on a small artifact with the empty config, so archives can hold
// blobs the layout has (reused) and a conflicting v0.
func fuzzTemplate(f *testing.F) string {
	dir := filepath.Join(f.TempDir(), "L")
	l := openLayout(f, dir)
	packTag(f, l, "v0", 99, map[string]int{"old.bin": 100}, nil)
	if err := l.Close(); err != nil {
		f.Fatal(err)
	}
	return dir
}

// checkImport imports archive into a fresh copy of tmpl beside a
// sentinel directory and checks FuzzImport's properties.
func checkImport(t *testing.T, tmpl string, archive []byte) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "L")
	if err := os.CopyFS(dir, os.DirFS(tmpl)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(parent, "sentinel"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "sentinel", "secret"), []byte("SENTINEL"), 0o600); err != nil {
		t.Fatal(err)
	}
	index := readFile(t, filepath.Join(dir, layout.IndexFile))
	outside := treeListing(t, parent, dir)
	blobsBefore := blobFiles(t, dir)

	l := openLayout(t, dir)
	stop := fuzztest.Watchdog("Import")
	res, err := Import(ctx, l, bytes.NewReader(archive), ImportOptions{MaxBytes: fuzzBudget})
	stop()
	if cerr := l.Close(); cerr != nil {
		t.Fatalf("close layout: %v", cerr)
	}

	if got := treeListing(t, parent, dir); got != outside {
		t.Fatalf("files outside the layout changed:\n%s\nwas\n%s", got, outside)
	}
	checkShape(t, dir)
	checkNewBlobs(t, dir, blobsBefore)
	after := readFile(t, filepath.Join(dir, layout.IndexFile))
	if err != nil {
		if !bytes.Equal(after, index) {
			t.Fatalf("import failed (%v) but index.json changed:\n%s", err, after)
		}
		checkErrorClass(t, err)
		return
	}
	validateOnce(t, dir, after)
	idx, perr := layout.ParseIndex(after)
	if perr != nil {
		t.Fatal(perr)
	}
	old, _ := layout.ParseIndex(index)
	for _, tg := range layout.Tags(old) {
		if d, ok := layout.FindTag(idx, tg.Name); !ok || d.Digest != tg.Descriptor.Digest {
			t.Fatalf("tag %q (%s) lost or moved by an import without --force", tg.Name, tg.Descriptor.Digest)
		}
	}
	for _, ch := range res.Tags {
		if d, ok := layout.FindTag(idx, ch.Name); !ch.Skipped && (!ok || d.Digest != ch.New) {
			t.Fatalf("import reports tag %q → %s, index.json says %s", ch.Name, ch.New, d.Digest)
		}
	}
	if n := len(blobFiles(t, dir)) - len(blobsBefore); n != res.Imported {
		t.Fatalf("import reports %d blobs imported, %d appeared", res.Imported, n)
	}
}

// validated remembers the layout states layouttest.Validate passed, by
// validateKey: the full check compiles image-spec's JSON schemas on every
// call (tens of milliseconds), and most successful imports of mutated
// inputs end in a state already checked.
var validated = map[[32]byte]bool{}

// validateOnce runs layouttest.Validate on dir unless an identical state
// passed before. A state is index.json plus the names of the blob files:
// checkNewBlobs has verified that each is named by its content's digest.
func validateOnce(t *testing.T, dir string, index []byte) {
	h := sha256.New()
	h.Write(index)
	names := slices.Sorted(maps.Keys(blobFiles(t, dir)))
	for _, n := range names {
		h.Write([]byte("\x00" + strings.TrimPrefix(n, dir)))
	}
	key := [32]byte(h.Sum(nil))
	if validated[key] {
		return
	}
	if err := layouttest.Validate(dir); err != nil {
		t.Fatalf("layout invalid after import:\n%v", err)
	}
	if len(validated) > 1<<16 {
		clear(validated)
	}
	validated[key] = true
}

// checkNewBlobs: every blob the import added is named by the digest of
// its content, and no staging is left behind.
func checkNewBlobs(t *testing.T, dir string, before map[string]fs.FileMode) {
	for p := range blobFiles(t, dir) {
		if _, old := before[p]; old {
			continue
		}
		rel, _ := filepath.Rel(filepath.Join(dir, layout.BlobsDir), p)
		d := digest.Digest(strings.Replace(filepath.ToSlash(rel), "/", ":", 1))
		if err := cas.Validate(d); err != nil {
			t.Fatalf("import committed %s: %v", p, err)
		}
		if got := d.Algorithm().FromBytes(readFile(t, p)); got != d {
			t.Fatalf("import committed %s, whose content is %s", p, got)
		}
	}
	staging, err := os.ReadDir(filepath.Join(dir, ".oci-pack", "tmp"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range staging {
		t.Fatalf("staging left behind: .oci-pack/tmp/%s", e.Name())
	}
}

// checkShape: the layout holds only its own top-level names, and blob
// files carry no write-for-others, execute or set-id bits.
func checkShape(t *testing.T, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case layout.LayoutFile, layout.IndexFile, layout.BlobsDir, layout.PrivateDir:
		default:
			t.Fatalf("import created %q in the layout", e.Name())
		}
	}
	for p, mode := range blobFiles(t, dir) {
		if mode != 0o444 && mode != 0o644 {
			t.Fatalf("blob %s has mode %v", p, mode)
		}
	}
}

// blobFiles maps every file under dir/blobs to its mode.
func blobFiles(t *testing.T, dir string) map[string]fs.FileMode {
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(filepath.Join(dir, layout.BlobsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// importClasses are the sentinels an import of a bad archive may fail
// with: the CLI's integrity class (exit 3) and a tag conflict (exit 4).
var importClasses = []error{
	ErrInvalid, ErrTruncated, ErrTooLarge, layout.ErrCorrupt, layout.ErrMissingBlob, layout.ErrTagExists,
	cas.ErrDigestMismatch, cas.ErrSizeMismatch, cas.ErrInvalidDigest, cas.ErrNotRegular,
	strictjson.ErrInvalid, strictjson.ErrTooLarge, compress.ErrTooLarge,
}

// checkErrorClass: the error is of an import class, not a usage error
// (that would blame the caller for the archive), and its text carries no
// raw control characters from the archive.
func checkErrorClass(t *testing.T, err error) {
	if errors.Is(err, layout.ErrInvalidTag) || errors.Is(err, layout.ErrInvalidArgument) {
		t.Fatalf("error %q is of the usage class", err)
	}
	if strings.ContainsAny(err.Error(), "\x00\n\r\x1b") {
		t.Fatalf("error %q carries raw control characters", err)
	}
	for _, c := range importClasses {
		if errors.Is(err, c) {
			return
		}
	}
	t.Fatalf("error %q is of no integrity or conflict class", err)
}

// fuzzManifest is the v1 manifest of the seed scripts, pointing at
// entries 3 (config) and 4 (layer).
const fuzzManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/x","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:{h3}","size":{s3}},"layers":[{"mediaType":"application/octet-stream","digest":"sha256:{h4}","size":{s4},"annotations":{"org.opencontainers.image.title":"a.bin"}}]}`

// fuzzIndex tags entry 5 (the manifest) as TAG.
const fuzzIndex = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h5}","size":{s5},"annotations":{"org.opencontainers.image.ref.name":"TAG"}}]}`
