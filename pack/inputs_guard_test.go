package pack_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// wantUsage fails unless err wraps layout.ErrInvalidArgument and mentions every one
// of msgs.
func wantUsage(t *testing.T, what string, err error, msgs ...string) {
	t.Helper()
	if !errors.Is(err, layout.ErrInvalidArgument) {
		t.Fatalf("%s: %v, want a usage error", what, err)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Fatalf("%s: %q does not mention %q", what, err, m)
		}
	}
}

// TestLayerMediaTypeNotDocument: a layer (file or directory) or config
// given a manifest or index media type is a usage error, and nothing is
// tagged: every graph walk would read that blob as a manifest.
func TestLayerMediaTypeNotDocument(t *testing.T) {
	src := t.TempDir()
	file := mkfile(t, src, "a.bin", []byte("not a manifest"), 0o644)
	dirIn := filepath.Dir(mkfile(t, src, "d/x.txt", []byte("x"), 0o644))
	dir := filepath.Join(t.TempDir(), "L")
	types := []string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, layout.MediaTypeDockerManifest, layout.MediaTypeDockerManifestList}
	for _, mt := range types {
		for _, p := range []string{file, dirIn} {
			_, err := tryPack(dir, []pack.Input{{Path: p, MediaType: mt}}, pack.Options{ArtifactType: testType})
			wantUsage(t, "layer "+p+":"+mt, err, p, mt)
		}
		_, err := tryPack(dir, inputs(file), pack.Options{ArtifactType: testType, ConfigPath: file, ConfigMediaType: mt})
		wantUsage(t, "config media type "+mt, err, "config media type", mt)
	}
	assertNoTags(t, dir)
	// A tar or JSON type that is not a document stays allowed.
	packInto(t, dir, []pack.Input{{Path: file, MediaType: "application/vnd.acme.data.v1+json"}}, pack.Options{ArtifactType: testType})
	layouttest.Check(t, dir)
}

// TestManifestOverBudgetFromLayers: inputs whose layer descriptors alone
// exceed the JSON document budget are refused before any layer is
// stored, with a usage error naming the size and the limit.
func TestManifestOverBudgetFromLayers(t *testing.T) {
	src := t.TempDir()
	empty := mkfile(t, src, "empty", nil, 0o644)
	long := strings.Repeat("n", 9000)
	var in []pack.Input
	for i := 0; i*len(long) <= strictjson.MaxDocument; i++ {
		in = append(in, pack.Input{Path: empty, Title: fmt.Sprintf("%s-%05d", long, i)})
	}
	dir := filepath.Join(t.TempDir(), "L")
	_, err := tryPack(dir, in, pack.Options{ArtifactType: testType})
	wantUsage(t, "pack of long-named files", err, "manifest", fmt.Sprint(strictjson.MaxDocument), "fewer files")
	assertNoTags(t, dir)
	if blobs := blobFiles(t, dir); len(blobs) != 0 {
		t.Fatalf("%d blobs stored before the manifest was refused", len(blobs))
	}
}

// TestManifestOverBudgetFromAnnotations: a manifest that only its final
// encoding shows to be too big (a huge annotation) is refused before it is
// stored or tagged.
func TestManifestOverBudgetFromAnnotations(t *testing.T) {
	src := t.TempDir()
	file := mkfile(t, src, "a.bin", []byte("a"), 0o644)
	dir := filepath.Join(t.TempDir(), "L")
	big := strings.Repeat("v", strictjson.MaxDocument)
	_, err := tryPack(dir, inputs(file), pack.Options{ArtifactType: testType, Annotations: map[string]string{"k": big}})
	wantUsage(t, "pack with a huge annotation", err, "manifest would be", fmt.Sprint(strictjson.MaxDocument))
	assertNoTags(t, dir)
	for hex, fi := range blobFiles(t, dir) {
		if fi.Size() > strictjson.MaxDocument {
			t.Fatalf("blob %s of %d bytes stored", hex, fi.Size())
		}
	}
}

// TestJSONConfigOverBudget: a config file of a JSON media type over the
// budget is refused before it is stored.
func TestJSONConfigOverBudget(t *testing.T) {
	src := t.TempDir()
	file := mkfile(t, src, "a.bin", []byte("a"), 0o644)
	cfg := mkfile(t, src, "config.json", bytes.Repeat([]byte(" "), strictjson.MaxDocument+1), 0o644)
	dir := filepath.Join(t.TempDir(), "L")
	_, err := tryPack(dir, inputs(file), pack.Options{ArtifactType: testType, ConfigPath: cfg})
	wantUsage(t, "pack with a huge config", err, "config", cfg, fmt.Sprint(strictjson.MaxDocument))
	assertNoTags(t, dir)
}

// TestOverlappingInputs: inputs that extract would write over each other
// — a directory and a file inside it, a title naming a path inside a
// directory layer, a directory and its subdirectory, a file below a file
// — are a usage error naming both inputs; inputs that only share a
// directory are fine.
func TestOverlappingInputs(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	mkfile(t, work, "d/x.txt", []byte("x"), 0o644)
	mkfile(t, work, "d/sub/y.txt", []byte("y"), 0o644)
	mkfile(t, work, "other.txt", []byte("o"), 0o644)
	dir := filepath.Join(work, "L")
	o := pack.Options{ArtifactType: testType}
	cases := map[string][]pack.Input{
		"d/x.txt":     inputs("d", "d/x.txt"),
		"d/x.txt ":    inputs("d/x.txt", "d"),
		"other.txt":   {{Path: "d"}, {Path: "other.txt", Title: "d/x.txt"}},
		"d/sub":       inputs("d", "d/sub"),
		"other.txt  ": {{Path: "d/x.txt"}, {Path: "other.txt", Title: "d/x.txt/z"}},
	}
	for name, in := range cases {
		_, err := tryPack(dir, in, o)
		wantUsage(t, "pack "+name, err, in[0].Path, in[1].Path, "extract would refuse")
	}
	assertNoTags(t, dir)
	packInto(t, dir, []pack.Input{{Path: "d"}, {Path: "other.txt", Title: "d/new.txt"}}, o)
	layouttest.Check(t, dir)
}

// growingProgress runs change once, after the first bytes of the item
// named title are read.
type growingProgress struct {
	title  string
	change func()
	once   sync.Once
}

func (g *growingProgress) track(name string, _ int64) (func(int64), func(error)) {
	if name != g.title {
		return func(int64) {}, func(error) {}
	}
	return func(int64) { g.once.Do(g.change) }, func(error) {}
}

// TestRawFileChangedWhileRead: a raw file layer that grows, shrinks, or
// is rewritten in place while pack reads it fails with ErrChanged (exit
// class 1, not usage) instead of storing a torn copy; nothing is tagged.
func TestRawFileChangedWhileRead(t *testing.T) {
	const size = 3 << 20
	changes := map[string]func(p string) error{
		"grows": func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write([]byte("more"))
			return err
		},
		"shrinks": func(p string) error { return os.Truncate(p, size/2+1) },
		"is rewritten": func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("tail"), size-4)
			return err
		},
	}
	for name, change := range changes {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			src := t.TempDir()
			p := mkfile(t, src, "w.bin", bytes.Repeat([]byte("w"), size), 0o644)
			past := time.Now().Add(-time.Hour)
			if err := os.Chtimes(p, past, past); err != nil {
				t.Fatal(err)
			}
			var changeErr error
			prog := &growingProgress{title: "w.bin", change: func() { changeErr = change(p) }}
			dir := filepath.Join(t.TempDir(), "L")
			t.Chdir(src)
			_, err := tryPack(dir, inputs("w.bin"), pack.Options{ArtifactType: testType, NoCache: true, Progress: prog.track})
			if changeErr != nil {
				t.Fatal(changeErr)
			}
			if !errors.Is(err, pack.ErrChanged) || errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), "w.bin") {
				t.Fatalf("pack of a file that %s while read: %v, want %v naming w.bin", name, err, pack.ErrChanged)
			}
			assertNoTags(t, dir)
		})
	}
}

// TestProcFileStillPacks: a /proc file (stat size 0, content made on
// read) is stored as the bytes read (RELIABILITY C-31), not refused as
// changed.
func TestProcFileStillPacks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	dir := filepath.Join(t.TempDir(), "L")
	res := packInto(t, dir, inputs("/proc/self/status"), pack.Options{ArtifactType: testType})
	if res.Layers[0].Descriptor.Size == 0 {
		t.Fatal("/proc/self/status stored empty")
	}
}

// TestInputInsideLayout is RELIABILITY C-36 for inputs that are the
// output layout or lie inside it (directly, through "..", or through a
// symlink), and for a config or icon there: a usage error naming both
// paths, and index.json untouched.
func TestInputInsideLayout(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	mkfile(t, work, "ok.txt", []byte("ok"), 0o644)
	packInto(t, "L", inputs("ok.txt"), pack.Options{ArtifactType: testType})
	before := readFile(t, filepath.Join("L", "index.json"))
	paths := []string{"L", "L/blobs", "L/" + layout.PrivateDir, "L/index.json", "L/blobs/../oci-layout", "./L/"}
	if runtime.GOOS != "windows" {
		if err := os.Symlink("L", "via"); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "via", "via/blobs")
	}
	l, err := layout.Open("L", layout.Options{Mode: layout.ReadWrite, LockTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, p := range paths {
		for _, name := range []string{"", "modelpack"} {
			var preset *pack.Preset
			if name != "" {
				preset = mustPreset(t, name)
			}
			_, err := pack.Pack(ctx, l, inputs(p), pack.Options{ArtifactType: testType, Preset: preset})
			wantUsage(t, "pack "+p, err, "refusing to pack the output layout into itself", p, "layout L")
		}
	}
	_, err = pack.Pack(ctx, l, inputs("ok.txt"), pack.Options{ConfigPath: "L/index.json"})
	wantUsage(t, "--config L/index.json", err, "output layout", "L/index.json")
	if after := readFile(t, filepath.Join("L", "index.json")); !bytes.Equal(after, before) {
		t.Fatalf("index.json changed:\n%s\nwas\n%s", after, before)
	}
}
