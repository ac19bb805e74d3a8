package extract

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// oddNames are names every round trip must carry byte-exactly.
var oddNames = []string{
	"plain.txt", "with space", " leading space", "trailing space ", "-leading-dash", "--double",
	"ünïcödé-名前", "tab\there", "back\\slash", "colon:name", "...", "a..b", "new\nline",
	strings.Repeat("n", 120), strings.Repeat("m", 255), "A.bin", "a.bin", "$'\\xff'",
}

// mkTree builds a directory tree at root from a spec: path → content
// ("" + trailing slash in the key: directory; "-> target": symlink), and
// sets modes.
func mkTree(t *testing.T, root string, spec map[string]string, modes map[string]os.FileMode) {
	t.Helper()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for p, v := range spec {
		switch {
		case strings.HasSuffix(p, "/"):
			if err := r.MkdirAll(strings.TrimSuffix(p, "/"), 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "-> "):
			if err := r.MkdirAll(path.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := r.Symlink(strings.TrimPrefix(v, "-> "), p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := r.MkdirAll(path.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for p, m := range modes {
		if err := r.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
}

// packAndExtract packs inputs with pack.Pack and extracts the result.
func packAndExtract(t *testing.T, inputs []pack.Input, compression string, o Options) (*layout.Layout, *pack.Result, *Result) {
	t.Helper()
	l := newLayout(t)
	res, err := pack.Pack(context.Background(), l, inputs, pack.Options{
		ArtifactType: "application/vnd.test.artifact", Compression: compress.Algorithm(compression), Jobs: 2, MTime: time.Unix(0, 0),
		PreserveMode: true, // the round trip checks modes
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Extract(context.Background(), l, res.Manifest, o)
	if err != nil {
		t.Fatal(err)
	}
	return l, res, got
}

func TestRoundTrip(t *testing.T) {
	spec := map[string]string{
		"empty.txt":          "",
		"top.txt":            "top\n",
		"sub/file.bin":       strings.Repeat("\x00\x01binary", 5000),
		"sub/deeper/x.json":  `{"x":1}`,
		"emptydir/":          "",
		"nested/empty/dirs/": "",
		"locked/":            "",
		"locked/inside":      "read-only dir content",
		"link-to-file":       "-> sub/file.bin",
		"link-to-dir":        "-> sub",
		"sub/up":             "-> ../top.txt",
		"dangling":           "-> no/such/file",
		"exec.sh":            "#!/bin/sh\necho hi\n",
	}
	for i, n := range oddNames {
		spec["odd/"+n] = fmt.Sprintf("odd %d", i)
	}
	long := ""
	for i := range 14 {
		long = path.Join(long, fmt.Sprintf("%02d-%s", i, strings.Repeat("L", 200)))
	}
	spec[long+"/deep.txt"] = "deep" // a path of about 2,900 bytes
	// Group- and other-writable modes prove modes are set, not left to the umask.
	modes := map[string]os.FileMode{"exec.sh": 0o775, "top.txt": 0o622, "sub/deeper": 0o777, "locked": 0o555, "odd/plain.txt": 0o640}
	src := tempDir(t)
	treeDir := filepath.Join(src, "tree")
	if err := os.Mkdir(treeDir, 0o750); err != nil {
		t.Fatal(err)
	}
	mkTree(t, treeDir, spec, modes)
	rawFile := filepath.Join(src, "model.safetensors")
	if err := os.WriteFile(rawFile, []byte(strings.Repeat("weights", 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(src, "empty.bin")
	if err := os.WriteFile(emptyFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := tree(t, treeDir, true)
	for _, comp := range []string{"auto", "gzip", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			out := filepath.Join(tempDir(t), "out")
			inputs := []pack.Input{{Path: treeDir}, {Path: rawFile}, {Path: emptyFile}}
			_, pres, res := packAndExtract(t, inputs, comp, Options{Dir: out, Jobs: 3})
			if comp == "zstd" || comp == "none" {
				if _, ok := pres.Layers[0].Descriptor.Annotations[annotationUnpack]; ok {
					t.Fatalf("%s directory layer carries the unpack annotation; this case is meant to test the sniffed path", comp)
				}
			}
			diffTrees(t, want, tree(t, filepath.Join(out, "tree"), true))
			for _, f := range []string{rawFile, emptyFile} {
				wantB, _ := os.ReadFile(f)
				gotB, err := os.ReadFile(filepath.Join(out, filepath.Base(f)))
				if err != nil || string(gotB) != string(wantB) {
					t.Errorf("%s: %d bytes (err %v), want %d bytes", filepath.Base(f), len(gotB), err, len(wantB))
				}
			}
			var files, bytes int64
			for p, v := range want {
				if !strings.HasPrefix(v, "dir") {
					files++
				}
				if strings.HasPrefix(v, "file") {
					fi, _ := os.Lstat(filepath.Join(treeDir, p))
					if fi != nil {
						bytes += fi.Size()
					}
				}
			}
			files += 2
			bytes += int64(len(strings.Repeat("weights", 3000)))
			if int64(len(res.Files)) != files {
				t.Errorf("result lists %d files, want %d", len(res.Files), files)
			}
			if res.Bytes != bytes {
				t.Errorf("result counts %d bytes, want %d", res.Bytes, bytes)
			}
			noFinalNames(t, out, "empty.bin", "model.safetensors", "tree")
		})
	}
}

// A path longer than PATH_MAX (4,096 bytes) in a tar layer is written
// (component by component, through os.Root).
func TestPathOverPathMax(t *testing.T) {
	l := newLayout(t)
	p := "t"
	es := []ent{dir("t/")}
	for i := range 22 {
		p += fmt.Sprintf("/%02d%s", i, strings.Repeat("P", 200))
		es = append(es, dir(p+"/"))
	}
	es = append(es, file(p+"/leaf", "deep"))
	if len(p) < 4096 {
		t.Fatalf("path is %d bytes; the test needs more than 4096", len(p))
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Extract(context.Background(), l, putManifest(t, l, "v1", nil, tarLayer(t, l, "t", es...)), Options{Dir: out}); err != nil {
		t.Fatal(err)
	}
	got := tree(t, out, false)
	if got[p+"/leaf"] != "file "+sha("deep") {
		t.Errorf("leaf at %d bytes deep: %q", len(p), got[p+"/leaf"])
	}
}

// Random trees from a seeded generator: pack → export → import into an
// empty layout → extract → identical tree (content, modes, symlink
// targets), through every compression.
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(20240611))
	comps := []string{"gzip", "zstd", "none"}
	for iter := range 30 {
		spec, modes := randomTree(rng)
		src := filepath.Join(t.TempDir(), "tree")
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		mkTree(t, src, spec, modes)
		comp := comps[iter%len(comps)]
		out := filepath.Join(t.TempDir(), "out")
		packTransferExtract(t, src, comp, out)
		want, got := tree(t, src, true), tree(t, filepath.Join(out, "tree"), true)
		diffTrees(t, want, got)
		if t.Failed() {
			t.Fatalf("iteration %d (%s) differs; tree %q", iter, comp, slices.Sorted(maps.Keys(spec)))
		}
	}
}

// packTransferExtract packs dir as a tagged artifact, exports the layout
// to a tar, imports that into an empty layout and extracts the artifact
// from there into out.
func packTransferExtract(t *testing.T, dir, compression, out string) {
	t.Helper()
	ctx := context.Background()
	l := newLayout(t)
	res, err := pack.Pack(ctx, l, []pack.Input{{Path: dir}}, pack.Options{
		ArtifactType: "application/vnd.test.artifact", Compression: compress.Algorithm(compression), Jobs: 2, MTime: time.Unix(0, 0),
		PreserveMode: true, // the round trip checks modes
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.TagAll(ctx, res.Manifest, layout.ConflictFail, "v1"); err != nil {
		t.Fatal(err)
	}
	var tarball bytes.Buffer
	if _, err := archive.Export(ctx, l, &tarball, archive.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	far := newLayout(t)
	if _, err := archive.Import(ctx, far, &tarball, archive.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := far.Resolve(ctx, layout.Ref{Layout: far.Dir(), Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != res.Manifest.Digest {
		t.Fatalf("imported v1 is %s, packed %s", got.Digest, res.Manifest.Digest)
	}
	if _, err := Extract(ctx, far, got, Options{Dir: out, Jobs: 2}); err != nil {
		t.Fatal(err)
	}
}

// randomTree draws up to 25 entries at depth ≤ 3 from a pool of names
// including odd ones, with symlinks to earlier files (relative to the
// link) and random permission bits.
func randomTree(rng *rand.Rand) (map[string]string, map[string]os.FileMode) {
	pool := append([]string{"a", "b", "c", "data", "Model.bin", "x y", "ü"}, oddNames...)
	spec := map[string]string{}
	kinds := map[string]string{} // path → "d" or "f" or "l"
	modes := map[string]os.FileMode{}
	var files []string
	for range 1 + rng.Intn(25) {
		depth := rng.Intn(3)
		var parts []string
		for range depth + 1 {
			parts = append(parts, pool[rng.Intn(len(pool))])
		}
		p := strings.Join(parts, "/")
		ok := kinds[p] == ""
		for i := 1; i < len(parts) && ok; i++ {
			k := kinds[strings.Join(parts[:i], "/")]
			ok = k == "" || k == "d"
		}
		if !ok {
			continue
		}
		for i := 1; i < len(parts); i++ {
			kinds[strings.Join(parts[:i], "/")] = "d"
		}
		switch r := rng.Intn(10); {
		case r < 6:
			body := make([]byte, rng.Intn(3000))
			if rng.Intn(5) == 0 {
				body = nil // empty files are common in real trees
			}
			rng.Read(body)
			spec[p] = string(body)
			kinds[p] = "f"
			files = append(files, p)
			modes[p] = os.FileMode(0o400 | rng.Intn(0o400)) // any bits but u+r
		case r < 8 || len(files) == 0:
			spec[p+"/"] = ""
			kinds[p] = "d"
			modes[p] = os.FileMode(0o700 | rng.Intn(0o100))
		default:
			target := files[rng.Intn(len(files))]
			rel, _ := filepath.Rel(path.Dir(p), target)
			spec[p] = "-> " + filepath.ToSlash(rel)
			kinds[p] = "l"
		}
	}
	return spec, modes
}

// B-21: a flipped byte in a raw or tar layer fails with a digest mismatch
// and no file under a final name — not even the intact layers'.
func TestCorruptBlob(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{"d/a": strings.Repeat("aaaa", 4000), "d/b": "bbb", "model.bin": strings.Repeat("w", 10000)}, nil)
	for _, layer := range []int{0, 1} {
		for _, comp := range []string{"gzip", "none"} {
			t.Run(fmt.Sprintf("layer%d-%s", layer, comp), func(t *testing.T) {
				l := newLayout(t)
				res, err := pack.Pack(context.Background(), l, []pack.Input{{Path: filepath.Join(src, "d")}, {Path: filepath.Join(src, "model.bin")}},
					pack.Options{ArtifactType: "application/vnd.test", Compression: compress.Algorithm(comp), Jobs: 2})
				if err != nil {
					t.Fatal(err)
				}
				d := res.Layers[layer].Descriptor
				flipByte(t, l, d, int(d.Size)/2)
				out := filepath.Join(t.TempDir(), "out")
				mustFail(t, l, res.Manifest, Options{Dir: out, Jobs: 2}, cas.ErrDigestMismatch, d.Digest.String())
				noFinalNames(t, out)
			})
		}
	}
}

// F-52: decompression stops at the budget; nothing lands.
func TestBudget(t *testing.T) {
	l := newLayout(t)
	d := tarLayer(t, l, "t", dir("t/"), file("t/zeros", strings.Repeat("\x00", 1<<20)))
	out := filepath.Join(t.TempDir(), "out")
	mustFail(t, l, putManifest(t, l, "v1", nil, d), Options{Dir: out, MaxBytes: 64 << 10}, compress.ErrTooLarge, "the byte limit given")
	noFinalNames(t, out)

	// Raw files whose sizes alone exceed the budget fail before any read.
	m := putManifest(t, l, "v2", nil, rawLayer(t, l, "big.bin", strings.Repeat("b", 4096)))
	if _, err := Extract(context.Background(), l, m, Options{Dir: out, MaxBytes: 1000}); err == nil || !strings.Contains(err.Error(), "need 4096 bytes") {
		t.Errorf("preflight: %v", err)
	}
	noFinalNames(t, out)
}

func TestInclude(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{
		"tok/a.json": "a", "tok/sub/b.json": "b", "tok/c.txt": "c", "w1.safetensors": "1", "w2.safetensors": "2", "README.md": "r",
	}, nil)
	inputs := []pack.Input{{Path: filepath.Join(src, "tok")}, {Path: filepath.Join(src, "w1.safetensors")}, {Path: filepath.Join(src, "w2.safetensors")}, {Path: filepath.Join(src, "README.md")}}
	cases := []struct {
		globs []string
		want  []string
	}{
		{[]string{"*.safetensors"}, []string{"w1.safetensors", "w2.safetensors"}},
		{[]string{"tok"}, []string{"tok", "tok/a.json", "tok/c.txt", "tok/sub", "tok/sub/b.json"}},
		{[]string{"tok/*.json"}, []string{"tok", "tok/a.json"}},
		{[]string{"tok/sub/*", "README.md"}, []string{"README.md", "tok", "tok/sub", "tok/sub/b.json"}},
	}
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "out")
		packAndExtract(t, inputs, "gzip", Options{Dir: out, Include: c.globs})
		got := slices.Sorted(maps.Keys(tree(t, out, false)))
		if !slices.Equal(got, c.want) {
			t.Errorf("--include %q wrote %q, want %q", c.globs, got, c.want)
		}
	}
	l := newLayout(t)
	m := putManifest(t, l, "v1", nil, rawLayer(t, l, "a", "a"))
	mustFail(t, l, m, Options{Dir: t.TempDir(), Include: []string{"[unclosed"}}, layout.ErrInvalidArgument, "[unclosed")
}

// Layers the way oras pushes them: a plain file with oras's default tar
// media type is a file (even when it is a tar of other names); a layer
// without a title is skipped with an info line.
func TestOrasShapes(t *testing.T) {
	l := newLayout(t)
	notes := putBlob(t, l, ocispec.MediaTypeImageLayer, []byte("just text"), map[string]string{ocispec.AnnotationTitle: "notes.txt"})
	userTar := tarBytes(t, file("inner/x", "x"))
	archive := putBlob(t, l, ocispec.MediaTypeImageLayer, userTar, map[string]string{ocispec.AnnotationTitle: "backup.tar"})
	empty := putBlob(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"), nil)
	m := putManifest(t, l, "v1", nil, notes, archive, empty)
	out := filepath.Join(t.TempDir(), "out")
	var infos []string
	if _, err := Extract(context.Background(), l, m, Options{Dir: out, Info: func(s string) { infos = append(infos, s) }}); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, map[string]string{"notes.txt": "file " + sha("just text"), "backup.tar": "file " + sha(string(userTar))}, tree(t, out, false))
	if len(infos) != 1 || !strings.Contains(infos[0], "layer 2") || !strings.Contains(infos[0], "skipped") {
		t.Errorf("info lines %q, want one about layer 2 being skipped", infos)
	}
}

// An index extracts each member into its own directory: by title, by
// ref.name, else by digest.
func TestIndex(t *testing.T) {
	l := newLayout(t)
	a := putManifest(t, l, "", nil, rawLayer(t, l, "model.bin", "A"))
	b := putManifest(t, l, "", nil, tarLayer(t, l, "tok", dir("tok/"), file("tok/t.json", "B")))
	c := putManifest(t, l, "", nil, rawLayer(t, l, "c.txt", "C"))
	a.Annotations = map[string]string{ocispec.AnnotationTitle: "model"}
	b.Annotations = map[string]string{ocispec.AnnotationRefName: "tokenizer"}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{a, b, c}}
	idx.SchemaVersion = 2
	ib := mustJSON(t, idx)
	id := putBlob(t, l, ocispec.MediaTypeImageIndex, ib, nil)
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Extract(context.Background(), l, id, Options{Dir: out, Jobs: 2}); err != nil {
		t.Fatal(err)
	}
	hex := c.Digest.Encoded()
	diffTrees(t, map[string]string{
		"model": "dir", "model/model.bin": "file " + sha("A"),
		"tokenizer": "dir", "tokenizer/tok": "dir", "tokenizer/tok/t.json": "file " + sha("B"),
		hex: "dir", hex + "/c.txt": "file " + sha("C"),
	}, tree(t, out, false))

	b.Annotations = map[string]string{ocispec.AnnotationTitle: "../escape"}
	idx.Manifests = []ocispec.Descriptor{a, b}
	bad := putBlob(t, l, ocispec.MediaTypeImageIndex, mustJSON(t, idx), nil)
	mustFail(t, l, bad, Options{Dir: filepath.Join(t.TempDir(), "out")}, ErrUnsafe, `index member 1 name "../escape"`)
}

// Two layers writing one path, and names equal but for case on a
// case-folding file system, are errors before anything lands.
func TestCollisions(t *testing.T) {
	l := newLayout(t)
	m := putManifest(t, l, "v1", nil, rawLayer(t, l, "tok/a.json", "raw"), tarLayer(t, l, "tok", dir("tok/"), file("tok/a.json", "tar")))
	out := filepath.Join(t.TempDir(), "out")
	mustFail(t, l, m, Options{Dir: out, Jobs: 2}, ErrUnsafe, `"tok/a.json"`, "collides")
	noFinalNames(t, out)

	c := newClaims(true)
	if err := c.add("A.bin", &claim{kind: kindFile}); err != nil {
		t.Fatal(err)
	}
	if err := c.add("a.bin", &claim{kind: kindFile}); !isErr(err, ErrUnsafe) || !strings.Contains(err.Error(), `"A.bin" and "a.bin" collide on this filesystem`) {
		t.Errorf("case collision: %v", err)
	}
	if err := c.add("Dir/x", &claim{kind: kindFile}); err != nil {
		t.Fatal(err)
	}
	if err := c.add("dir/y", &claim{kind: kindFile}); !isErr(err, ErrUnsafe) {
		t.Errorf("case collision of parent directories: %v", err)
	}
	if err := newClaims(false).add("A.bin", &claim{kind: kindFile}); err != nil {
		t.Fatal(err)
	}
}

// The output directory must not be the layout or lie inside it.
func TestOutputInsideLayout(t *testing.T) {
	l := newLayout(t)
	m := putManifest(t, l, "v1", nil, rawLayer(t, l, "blobs/sha256/x", "x"))
	for _, dir := range []string{l.Dir(), filepath.Join(l.Dir(), "blobs"), filepath.Join(l.Dir(), "new", "sub")} {
		mustFail(t, l, m, Options{Dir: dir}, layout.ErrInvalidArgument, "refusing to extract into the layout")
	}
	if _, err := os.Lstat(filepath.Join(l.Dir(), "new")); !os.IsNotExist(err) {
		t.Errorf("a directory was created inside the layout (%v)", err)
	}
}

func TestFoldsCaseProbe(t *testing.T) {
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	folds, err := foldsCase(r, ".")
	if err != nil {
		t.Fatal(err)
	}
	// Linux tmpfs and ext4 (without casefold) are case-sensitive; compare
	// with what the kernel says for a real pair of names.
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(filepath.Join(dir, "PROBE"))
	if folds != (statErr == nil) {
		t.Errorf("foldsCase = %v, but stat of the upper-case name gave %v", folds, statErr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("probe file left behind: %v", entries)
	}
}
