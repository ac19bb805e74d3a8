package pack_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const testType = "application/vnd.test.v1"

// blobFiles lists the blob files of a layout with their inode identity.
func blobFiles(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	out := map[string]os.FileInfo{}
	entries, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi
	}
	return out
}

// TestRepackReuses: packing the same inputs again writes no blob and
// reports every blob as reused; a fresh layout gets the same digest.
func TestRepackReuses(t *testing.T) {
	_, in := goldenInputs(t)
	dir := filepath.Join(t.TempDir(), "L")
	o := pack.Options{ArtifactType: testType, Jobs: 2}
	first := packInto(t, dir, in, o)
	before := blobFiles(t, dir)
	if first.Written != 6 || first.Reused != 0 {
		t.Fatalf("first pack: %d written, %d reused; want 6 (4 layers, config, manifest) and 0", first.Written, first.Reused)
	}
	for _, noCache := range []bool{false, true} {
		o.NoCache = noCache
		again := packInto(t, dir, in, o)
		var all int64
		for _, l := range again.Layers {
			all += l.Descriptor.Size
		}
		all += 2 + again.Manifest.Size
		if again.Manifest.Digest != first.Manifest.Digest || again.Written != 0 || again.Reused != 6 || again.ReusedBytes != all {
			t.Fatalf("re-pack (NoCache %v): %s, %d written, %d reused (%d bytes); want %s, 0, 6 (%d bytes)",
				noCache, again.Manifest.Digest, again.Written, again.Reused, again.ReusedBytes, first.Manifest.Digest, all)
		}
		after := blobFiles(t, dir)
		if len(after) != len(before) {
			t.Fatalf("re-pack changed the blob count from %d to %d", len(before), len(after))
		}
		for name, fi := range before {
			if !os.SameFile(fi, after[name]) {
				t.Fatalf("re-pack rewrote blob %s", name)
			}
		}
	}
	layouttest.Check(t, dir)
}

// TestDecisionTree is image-spec 1.1's artifact guidance (DESIGN 3).
func TestDecisionTree(t *testing.T) {
	src := t.TempDir()
	file := mkfile(t, src, "weights.bin", []byte("weights"), 0o644)
	cfg := mkfile(t, src, "config.json", []byte(`{"model":"x"}`), 0o644)
	empty := ocispec.DescriptorEmptyJSON
	empty.Data = nil
	cases := []struct {
		name       string
		in         []pack.Input
		o          pack.Options
		wantConfig ocispec.Descriptor
		wantLayers int
	}{
		{"no files", nil, pack.Options{ArtifactType: testType}, empty, 1},
		{"files, no config", inputs(file), pack.Options{ArtifactType: testType}, empty, 1},
		{"config with media type", inputs(file), pack.Options{ConfigPath: cfg, ConfigMediaType: "application/vnd.acme.config.v1+json"},
			ocispec.Descriptor{MediaType: "application/vnd.acme.config.v1+json", Digest: digest.FromString(`{"model":"x"}`), Size: 13}, 1},
		{"config, default media type", inputs(file), pack.Options{ConfigPath: cfg, ArtifactType: testType},
			ocispec.Descriptor{MediaType: pack.DefaultConfigMediaType, Digest: digest.FromString(`{"model":"x"}`), Size: 13}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "L")
			res := packInto(t, dir, c.in, c.o)
			m := manifestOf(t, dir, res.Manifest.Digest)
			if m.MediaType != ocispec.MediaTypeImageManifest || m.ArtifactType != c.o.ArtifactType || res.Manifest.ArtifactType != c.o.ArtifactType {
				t.Errorf("manifest mediaType %q artifactType %q", m.MediaType, m.ArtifactType)
			}
			if m.Config.MediaType != c.wantConfig.MediaType || m.Config.Digest != c.wantConfig.Digest || m.Config.Size != c.wantConfig.Size {
				t.Errorf("config %+v, want %+v", m.Config, c.wantConfig)
			}
			if len(m.Layers) != c.wantLayers {
				t.Fatalf("%d layers, want %d", len(m.Layers), c.wantLayers)
			}
			if c.in == nil && (m.Layers[0].Digest != empty.Digest || m.Layers[0].MediaType != ocispec.MediaTypeEmptyJSON || m.Layers[0].Size != 2) {
				t.Errorf("no-file artifact layer %+v, want the empty descriptor", m.Layers[0])
			}
			layouttest.Check(t, dir)
		})
	}
	dir := filepath.Join(t.TempDir(), "L")
	_, err := tryPack(dir, inputs(file), pack.Options{})
	if !errors.Is(err, pack.ErrArtifactTypeRequired) || !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), "artifactType") {
		t.Fatalf("empty config without artifactType = %v, want ErrArtifactTypeRequired", err)
	}
	assertNoTags(t, dir)
	if names, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256")); len(names) != 0 {
		t.Errorf("%d blob(s) stored before the missing artifactType was refused", len(names))
	}
}

// TestTitles: a relative path is its own title, an absolute or escaping
// one its base name; two inputs with one title are refused.
func TestTitles(t *testing.T) {
	src := t.TempDir()
	mkfile(t, src, "sub/x.bin", []byte("x"), 0o644)
	mkfile(t, src, "y.bin", []byte("y"), 0o644)
	t.Chdir(filepath.Join(src, "sub"))
	dir := filepath.Join(t.TempDir(), "L")
	res := packInto(t, dir, inputs("x.bin", "../y.bin", filepath.Join(src, "sub")), pack.Options{ArtifactType: testType})
	var titles []string
	for _, l := range res.Layers {
		titles = append(titles, l.Descriptor.Annotations[ocispecTitle])
	}
	if want := []string{"x.bin", "y.bin", "sub"}; !slices.Equal(titles, want) {
		t.Fatalf("titles %q, want %q", titles, want)
	}
	t.Chdir(src)
	res = packInto(t, dir, inputs("sub/x.bin"), pack.Options{ArtifactType: testType})
	if got := res.Layers[0].Descriptor.Annotations[ocispecTitle]; got != "sub/x.bin" {
		t.Fatalf("title %q, want sub/x.bin", got)
	}
	_, err := tryPack(dir, inputs("y.bin", "sub/../y.bin"), pack.Options{ArtifactType: testType})
	if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), `"y.bin"`) {
		t.Fatalf("two inputs titled y.bin = %v, want layout.ErrInvalidArgument", err)
	}
	layouttest.Check(t, dir)
}

// TestAnnotations: oras's annotation-file shape, --annotation and
// --created land where DESIGN 3 says.
func TestAnnotations(t *testing.T) {
	src := t.TempDir()
	file := mkfile(t, src, "w.bin", []byte("w"), 0o644)
	af := mkfile(t, src, "ann.json", []byte(`{"$manifest":{"m":"file","both":"file"},"$config":{"c":"1"},"w.bin":{"l":"2"}}`), 0o644)
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "L")
	fileAnn, err := pack.LoadAnnotationFile(af)
	if err != nil {
		t.Fatal(err)
	}
	res := packInto(t, dir, inputs(file), pack.Options{ArtifactType: testType, FileAnnotations: fileAnn,
		Annotations: map[string]string{"both": "flag"}, Created: &created})
	m := manifestOf(t, dir, res.Manifest.Digest)
	if m.Annotations["m"] != "file" || m.Annotations["both"] != "flag" || m.Annotations[ocispec.AnnotationCreated] != "2024-01-02T03:04:05Z" {
		t.Errorf("manifest annotations %v", m.Annotations)
	}
	if m.Config.Annotations["c"] != "1" {
		t.Errorf("config annotations %v", m.Config.Annotations)
	}
	if m.Layers[0].Annotations["l"] != "2" || m.Layers[0].Annotations[ocispecTitle] != "w.bin" {
		t.Errorf("layer annotations %v", m.Layers[0].Annotations)
	}
	res = packInto(t, dir, inputs(file), pack.Options{ArtifactType: testType})
	if m := manifestOf(t, dir, res.Manifest.Digest); m.Annotations != nil {
		t.Errorf("annotations %v without any asked for: no created timestamp by default", m.Annotations)
	}
	bad := mkfile(t, src, "bad.json", []byte(`{"$manifest":{"a":"1","a":"2"}}`), 0o644)
	if _, err := pack.LoadAnnotationFile(bad); !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), "duplicate key") {
		t.Fatalf("annotation file with a duplicate key = %v, want layout.ErrInvalidArgument", err)
	}
	layouttest.Check(t, dir)
}

func pngBytes(t *testing.T, pad int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), make([]byte, pad)...)
}

// TestHarbor: --icon must sniff as an image of at most 1 MiB; it becomes a
// layer with Harbor's icon annotation; --skip-list annotates the config
// descriptor.
func TestHarbor(t *testing.T) {
	src := t.TempDir()
	file := mkfile(t, src, "w.bin", []byte("w"), 0o644)
	icon := mkfile(t, src, "icon.png", pngBytes(t, 0), 0o644)
	dir := filepath.Join(t.TempDir(), "L")
	res := packInto(t, dir, inputs(file), pack.Options{ArtifactType: testType, Icon: icon, SkipList: []string{"a", "b"}})
	m := manifestOf(t, dir, res.Manifest.Digest)
	last := m.Layers[len(m.Layers)-1]
	if len(m.Layers) != 2 || last.MediaType != "image/png" || last.Digest != digest.FromBytes(pngBytes(t, 0)) {
		t.Fatalf("icon layer %+v", last)
	}
	if v, ok := last.Annotations[pack.AnnotationHarborIcon]; !ok || v != "" {
		t.Fatalf("icon annotations %v", last.Annotations)
	}
	if m.Config.Annotations[pack.AnnotationHarborSkipList] != "a,b" {
		t.Fatalf("config descriptor annotations %v, want the skip-list", m.Config.Annotations)
	}
	view := pack.Harbor(m, []byte(`{"a":1,"b":2,"c":3}`))
	if view.Icon != last.Digest.String() || !slices.Equal(view.Skipped, []string{"a", "b"}) || view.Metadata["c"] != float64(3) || view.Type != "UNKNOWN" || len(view.Warnings) == 0 {
		t.Fatalf("Harbor view %+v", view)
	}
	if v := pack.Harbor(ocispec.Manifest{Config: ocispec.Descriptor{MediaType: "application/vnd.goharbor.model.config.v1+json"}}, []byte("[]")); v.Type != "MODEL" || len(v.Warnings) != 1 {
		t.Fatalf("Harbor view of a typed config that is not an object: %+v", v)
	}
	layouttest.Check(t, dir)

	for name, b := range map[string][]byte{"text": []byte("not an image at all"), "big png": pngBytes(t, pack.MaxIconSize)} {
		p := mkfile(t, src, "icon-"+strings.ReplaceAll(name, " ", "-"), b, 0o644)
		dir := filepath.Join(t.TempDir(), "L")
		_, err := tryPack(dir, inputs(file), pack.Options{ArtifactType: testType, Icon: p})
		if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), p) {
			t.Errorf("--icon %s = %v, want layout.ErrInvalidArgument naming the file", name, err)
		}
		assertNoTags(t, dir)
	}
}

// TestUnreadableInput is RELIABILITY C-30 in the form root cannot bypass:
// a file whose read fails (/proc/self/mem at offset 0 gives EIO) fails the
// pack with a message naming it, before index.json changes. (The
// chmod-000 form runs when not root.)
func TestUnreadableInput(t *testing.T) {
	dir, _ := goodLayoutForFailures(t)
	before := readFile(t, filepath.Join(dir, "index.json"))
	_, err := tryPack(dir, inputs("/proc/self/mem"), pack.Options{ArtifactType: testType})
	if err == nil || !strings.Contains(err.Error(), "/proc/self/mem") {
		t.Fatalf("pack of /proc/self/mem = %v, want a read error naming it", err)
	}
	if os.Geteuid() != 0 {
		src := t.TempDir()
		secret := mkfile(t, src, "sub/secret.bin", []byte("s"), 0o000)
		_, err := tryPack(dir, inputs(src), pack.Options{ArtifactType: testType})
		if err == nil || !strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("pack of a dir with an unreadable file = %v, want permission denied naming %s", err, secret)
		}
	}
	if after := readFile(t, filepath.Join(dir, "index.json")); !bytes.Equal(after, before) {
		t.Fatal("a failed pack changed index.json")
	}
	layouttest.Check(t, dir)
}

// goodLayoutForFailures is a layout with tag v1, to check failures leave
// it alone.
func goodLayoutForFailures(t *testing.T) (string, *pack.Result) {
	t.Helper()
	src := t.TempDir()
	dir := filepath.Join(t.TempDir(), "L")
	return dir, packInto(t, dir, inputs(mkfile(t, src, "a.bin", []byte("a"), 0o644)), pack.Options{ArtifactType: testType})
}
