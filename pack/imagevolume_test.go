package pack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const modelcarGoldenFile = "../testdata/golden/modelcar.json"

func preset(t *testing.T, name string) *pack.Preset {
	t.Helper()
	p, err := pack.LookupPreset(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// goldenDir writes the golden tree and returns its directory.
func goldenDir(t *testing.T) string {
	dir, _ := goldenInputs(t)
	return dir
}

// TestModelcarGolden packs the golden tree with --preset modelcar, and
// with --preset modelpack --image-volume, on 1, 2 and 8 jobs: one index
// digest each, equal to testdata/golden/modelcar.json; the ModelPack
// manifest beside the image is the one --preset modelpack alone writes;
// the two forms share their tar layers, and the image is a referrer of the
// ModelPack manifest, tagged v1-image.
func TestModelcarGolden(t *testing.T) {
	dir := goldenDir(t)
	plain := packInto(t, filepath.Join(t.TempDir(), "P"), inputs(dir), pack.Options{Preset: preset(t, "modelpack")})
	got := map[string]string{}
	set := func(k string, d digest.Digest) {
		if prev, ok := got[k]; ok && prev != d.String() {
			t.Errorf("%s: %s, another --jobs gave %s", k, d, prev)
		}
		got[k] = d.String()
	}
	for _, jobs := range []int{1, 2, 8} {
		L := filepath.Join(t.TempDir(), "L")
		mc := packInto(t, L, inputs(dir), pack.Options{Preset: preset(t, "modelcar"), Jobs: jobs})
		set("modelcar", mc.Manifest.Digest)
		if mc.Image == nil || mc.Image.Index.Digest != mc.Manifest.Digest || len(mc.Image.Manifests) != 2 {
			t.Fatalf("modelcar result: %+v", mc.Image)
		}
		T := filepath.Join(t.TempDir(), "T")
		tw := packInto(t, T, inputs(dir), pack.Options{Preset: preset(t, "modelpack"), Jobs: jobs, Tag: "v1", TagConflict: layout.ConflictOverwrite, ImageVolume: &pack.ImageVolume{}})
		if tw.Manifest.Digest != plain.Manifest.Digest {
			t.Errorf("--image-volume changed the ModelPack manifest: %s, alone %s", tw.Manifest.Digest, plain.Manifest.Digest)
		}
		set("modelpack+image-volume", tw.Image.Index.Digest)
		if tw.Image.Tag != "v1-image" {
			t.Errorf("image tag %q, want v1-image", tw.Image.Tag)
		}
		for i, lay := range tw.Image.Layers {
			if lay.Descriptor.Digest != mc.Layers[i].Descriptor.Digest {
				t.Errorf("layer %d: %s beside ModelPack, %s alone", i, lay.Descriptor.Digest, mc.Layers[i].Descriptor.Digest)
			}
			if lay.Descriptor.Annotations[layout.AnnotationTarOf] != tw.Layers[i].Descriptor.Digest.String() {
				t.Errorf("layer %d tar-of %q, raw layer %s", i, lay.Descriptor.Annotations[layout.AnnotationTarOf], tw.Layers[i].Descriptor.Digest)
			}
		}
		refs := referrersOf(t, T, tw.Manifest.Digest)
		if len(refs) != 1 || refs[0].Digest != tw.Image.Index.Digest {
			t.Errorf("referrers of the ModelPack manifest: %v, want the image index %s", refs, tw.Image.Index.Digest)
		}
		if jobs == 8 {
			layouttest.Check(t, L)
			layouttest.Check(t, T)
		}
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(modelcarGoldenFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(modelcarGoldenFile)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./pack -run TestModelcarGolden -update)", err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		if want[k] != v {
			t.Errorf("%s: index %s, golden %s (the image-volume bytes changed; see %s)", k, v, want[k], modelcarGoldenFile)
		}
	}
}

func referrersOf(t *testing.T, dir string, d digest.Digest) []ocispec.Descriptor {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	refs, err := l.Referrers(ctx, d, "")
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// TestModelcarShape checks the documents: an index of linux/amd64 and
// linux/arm64 image manifests sharing every layer; configs with os,
// architecture, diff_ids equal to the layer digests, one history entry
// per layer and no timestamps; each layer an uncompressed tar with the
// title of its file.
func TestModelcarShape(t *testing.T) {
	dir := goldenDir(t)
	L := filepath.Join(t.TempDir(), "L")
	res := packInto(t, L, inputs(dir), pack.Options{Preset: preset(t, "modelcar")})
	var idx ocispec.Index
	readJSON(t, L, res.Manifest.Digest, &idx)
	if idx.MediaType != ocispec.MediaTypeImageIndex || len(idx.Manifests) != 2 {
		t.Fatalf("index: %+v", idx)
	}
	wantTitles := []string{"README.md", "config.json", "model.safetensors", "tokenizer/a.txt", "tokenizer/a/b", "tokenizer/latest",
		"tokenizer/" + "long-file-name-long-file-name-long-file-name-long-file-name-long-file-name-long-file-name-long-file-name-long-file-name-end.txt",
		"tokenizer/nested/deeper/merges.txt", "tokenizer/run.sh", "tokenizer/vocab.txt"}
	var layers []ocispec.Descriptor
	for i, m := range idx.Manifests {
		want := modelcar.DefaultPlatforms[i]
		if m.Platform == nil || m.Platform.OS != want.OS || m.Platform.Architecture != want.Architecture {
			t.Errorf("member %d platform %+v, want %+v", i, m.Platform, want)
		}
		var man ocispec.Manifest
		readJSON(t, L, m.Digest, &man)
		if man.Config.MediaType != ocispec.MediaTypeImageConfig || man.ArtifactType != "" {
			t.Errorf("member %d: config %s, artifactType %q", i, man.Config.MediaType, man.ArtifactType)
		}
		if i == 0 {
			layers = man.Layers
		} else if !slices.EqualFunc(layers, man.Layers, func(a, b ocispec.Descriptor) bool { return a.Digest == b.Digest }) {
			t.Errorf("member %d does not share the layers of member 0", i)
		}
		var img ocispec.Image
		readJSON(t, L, man.Config.Digest, &img)
		if img.OS != want.OS || img.Architecture != want.Architecture || img.Created != nil || img.RootFS.Type != "layers" {
			t.Errorf("config %d: %+v", i, img)
		}
		if len(img.RootFS.DiffIDs) != len(man.Layers) || len(img.History) != len(man.Layers) {
			t.Fatalf("config %d: %d diff_ids, %d history entries, %d layers", i, len(img.RootFS.DiffIDs), len(img.History), len(man.Layers))
		}
		for j, l := range man.Layers {
			if img.RootFS.DiffIDs[j] != l.Digest || img.History[j].Created != nil {
				t.Errorf("config %d entry %d: diff_id %s, layer %s, history %+v", i, j, img.RootFS.DiffIDs[j], l.Digest, img.History[j])
			}
		}
	}
	var titles []string
	for _, l := range layers {
		if l.MediaType != ocispec.MediaTypeImageLayer {
			t.Errorf("layer %s media type %s", l.Digest, l.MediaType)
		}
		titles = append(titles, l.Annotations[ocispec.AnnotationTitle])
	}
	if !slices.Equal(titles, wantTitles) {
		t.Errorf("titles %q, want %q", titles, wantTitles)
	}
	// Timestamps only when asked: --created sets the configs' and their
	// history's, and the index's and manifests' annotation.
	when := time.Unix(1700000000, 0).UTC()
	D := filepath.Join(t.TempDir(), "D")
	dated := packInto(t, D, inputs(dir), pack.Options{Preset: preset(t, "modelcar"), Created: &when})
	var didx ocispec.Index
	readJSON(t, D, dated.Manifest.Digest, &didx)
	var dman ocispec.Manifest
	readJSON(t, D, didx.Manifests[0].Digest, &dman)
	var dimg ocispec.Image
	readJSON(t, D, dman.Config.Digest, &dimg)
	if dimg.Created == nil || !dimg.Created.Equal(when) || dimg.History[0].Created == nil || didx.Annotations[ocispec.AnnotationCreated] != "2023-11-14T22:13:20Z" || dman.Annotations[ocispec.AnnotationCreated] == "" {
		t.Errorf("--created: config %+v, index annotations %v", dimg, didx.Annotations)
	}
}

func readJSON(t *testing.T, dir string, d digest.Digest, v any) {
	t.Helper()
	if err := json.Unmarshal(readBlob(t, dir, d), v); err != nil {
		t.Fatalf("%s: %v", d, err)
	}
}

// TestModelcarStatCache: a second pack of the same tree reads nothing:
// every layer comes from the stat cache, and the index is the same.
func TestModelcarStatCache(t *testing.T) {
	dir := goldenDir(t)
	old := time.Now().Add(-time.Hour)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			os.Chtimes(p, old, old) // out of the stat cache's racy window
		}
		return nil
	})
	L := filepath.Join(t.TempDir(), "L")
	o := pack.Options{Preset: preset(t, "modelpack"), ImageVolume: &pack.ImageVolume{}}
	first := packInto(t, L, inputs(dir), o)
	second := packInto(t, L, inputs(dir), o)
	if first.Image.Index.Digest != second.Image.Index.Digest {
		t.Fatalf("re-pack: index %s, first %s", second.Image.Index.Digest, first.Image.Index.Digest)
	}
	if second.Written != 0 {
		t.Errorf("re-pack wrote %d blobs, want 0 (every layer from the stat cache)", second.Written)
	}
	for i, l := range second.Image.Layers {
		if !l.Reused || !second.Layers[i].Reused {
			t.Errorf("layer %d not reused", i)
		}
	}
	mc := pack.Options{Preset: preset(t, "modelcar")}
	a := packInto(t, L, inputs(dir), mc)
	b := packInto(t, L, inputs(dir), mc)
	if b.Written != 0 || a.Manifest.Digest != b.Manifest.Digest {
		t.Errorf("modelcar re-pack: %d written, %s vs %s", b.Written, b.Manifest.Digest, a.Manifest.Digest)
	}
}

// TestImageVolumeRefusals: what the form cannot carry is a usage error
// before anything is read.
func TestImageVolumeRefusals(t *testing.T) {
	dir := goldenDir(t)
	L := filepath.Join(t.TempDir(), "L")
	cases := map[string]pack.Options{
		"zstd":            {Preset: preset(t, "modelpack"), Compression: compress.Zstd, ImageVolume: &pack.ImageVolume{}},
		"modelcar gzip":   {Preset: preset(t, "modelcar"), Compression: compress.Gzip},
		"mount dir":       {Preset: preset(t, "modelcar"), ImageVolume: &pack.ImageVolume{MountDir: "../x"}},
		"artifact type":   {Preset: preset(t, "modelcar"), ArtifactType: "application/x.a"},
		"directory layer": {ArtifactType: "application/x.a", ImageVolume: &pack.ImageVolume{}},
		"bad image tag":   {Preset: preset(t, "modelpack"), Tag: "v1", ImageVolume: &pack.ImageVolume{Tag: "sha256-" + digest.FromString("").Encoded()}},
	}
	for name, o := range cases {
		_, err := tryPack(L, inputs(dir), o)
		if !errors.Is(err, layout.ErrInvalidArgument) && !errors.Is(err, layout.ErrInvalidTag) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(L, "blobs", "sha256")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(L, "blobs", "sha256"))
		if len(entries) != 0 {
			t.Errorf("refused packs stored %d blobs", len(entries))
		}
	}
}

// putBase stores an image index with a linux/amd64 and a linux/arm64 image
// (one layer each, a config with Env and one history entry) in the layout
// dir and tags it base; arm64Too false leaves the index with amd64 only.
func putBase(t *testing.T, dir string, arm64Too bool) {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	layerBytes := []byte("not really a tar, but a blob\n")
	ld, err := l.Blobs().Put(ctx, bytes.NewReader(layerBytes), ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip})
	if err != nil {
		t.Fatal(err)
	}
	var members []ocispec.Descriptor
	for _, arch := range []string{"amd64", "arm64"} {
		if arch == "arm64" && !arm64Too {
			continue
		}
		config := `{"architecture":"` + arch + `","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh","-c","a && b"]},"rootfs":{"type":"layers","diff_ids":["` + digest.FromString("diff").String() + `"]},"history":[{"created_by":"base"}]}`
		cd, err := l.PutDocument(ctx, ocispec.MediaTypeImageConfig, []byte(config))
		if err != nil {
			t.Fatal(err)
		}
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{ld.Descriptor}}
		m.SchemaVersion = 2
		md, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
		if err != nil {
			t.Fatal(err)
		}
		md.Platform = &ocispec.Platform{OS: "linux", Architecture: arch}
		members = append(members, md)
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: members}
	idx.SchemaVersion = 2
	id, err := l.PutJSON(ctx, ocispec.MediaTypeImageIndex, idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Tag(ctx, "base", id, layout.ConflictOverwrite); err != nil {
		t.Fatal(err)
	}
}

func openBase(t *testing.T, dir string) *modelcar.Base {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	d, err := l.Resolve(ctx, layout.Ref{Layout: dir, Tag: "base"})
	if err != nil {
		t.Fatal(err)
	}
	return &modelcar.Base{Layout: l, Desc: d, Name: dir + ":base"}
}

// TestModelcarBase: --base stacks the files on each platform's base image:
// its layers first, its config kept (Env, Cmd with "&&" unescaped), the
// files' diff_ids and history appended; the base's blobs are copied into
// the target layout. A base without one of the platforms is a usage error.
func TestModelcarBase(t *testing.T) {
	dir := goldenDir(t)
	B := filepath.Join(t.TempDir(), "B")
	putBase(t, B, true)
	L := filepath.Join(t.TempDir(), "L")
	res := packInto(t, L, inputs(dir), pack.Options{Preset: preset(t, "modelcar"), ImageVolume: &pack.ImageVolume{Base: openBase(t, B)}})
	layouttest.Check(t, L)
	for _, m := range res.Image.Manifests {
		var man ocispec.Manifest
		readJSON(t, L, m.Digest, &man)
		if len(man.Layers) != 1+len(res.Image.Layers) || man.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
			t.Fatalf("%s: layers %v", m.Platform.Architecture, man.Layers)
		}
		raw := readBlob(t, L, man.Config.Digest)
		if !bytes.Contains(raw, []byte(`"a && b"`)) {
			t.Errorf("config lost the base's bytes: %s", raw)
		}
		var img ocispec.Image
		readJSON(t, L, man.Config.Digest, &img)
		if img.Architecture != m.Platform.Architecture || len(img.Config.Env) != 1 || len(img.RootFS.DiffIDs) != len(man.Layers) || len(img.History) != len(man.Layers) || img.History[0].CreatedBy != "base" {
			t.Errorf("%s: config %+v", m.Platform.Architecture, img)
		}
		if img.RootFS.DiffIDs[0] != digest.FromString("diff") || img.RootFS.DiffIDs[1] != man.Layers[1].Digest {
			t.Errorf("%s: diff_ids %v", m.Platform.Architecture, img.RootFS.DiffIDs)
		}
	}
	A := filepath.Join(t.TempDir(), "A")
	putBase(t, A, false)
	_, err := tryPack(filepath.Join(t.TempDir(), "M"), inputs(dir), pack.Options{Preset: preset(t, "modelcar"), ImageVolume: &pack.ImageVolume{Base: openBase(t, A)}})
	if !errors.Is(err, layout.ErrInvalidArgument) {
		t.Errorf("base without linux/arm64: %v, want a usage error", err)
	}
}
