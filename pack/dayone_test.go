package pack_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/pack"
)

// TestGoldenUnderGroupWritableUmask: the golden tree as a checkout under
// umask 002 leaves it (group-writable files and directories) packs to
// the golden digest: permissions are normalised as git does. With
// PreserveMode it does not.
func TestGoldenUnderGroupWritableUmask(t *testing.T) {
	root, in := goldenInputs(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, fi.Mode().Perm()|0o020)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := readGolden(t)["auto"]
	res := packInto(t, filepath.Join(t.TempDir(), "L"), in, pack.Options{ArtifactType: goldenArtifactType})
	if got := res.Manifest.Digest.String(); got != want {
		t.Fatalf("group-writable tree: %s, golden %s", got, want)
	}
	res = packInto(t, filepath.Join(t.TempDir(), "L"), in, pack.Options{ArtifactType: goldenArtifactType, PreserveMode: true})
	if res.Manifest.Digest.String() == want {
		t.Fatal("PreserveMode kept no group-write bit: the digest is the golden one")
	}
}

// TestExclude: --exclude patterns and a directory's .ocipackignore leave
// paths out of its tar layer and of the modelpack preset's files alike,
// and the manifest records what applied.
func TestExclude(t *testing.T) {
	src := filepath.Join(t.TempDir(), "model")
	for rel, body := range map[string]string{
		"config.json": "{}", "model.safetensors": "w", "notes.tmp": "t", "run.log": "l",
		"cache/blob": "c", "sub/cache/x": "x", "sub/keep.tmp": "k", pack.IgnoreFile: "*.tmp\n!keep.tmp\n/cache/\n",
	} {
		mkfile(t, src, rel, []byte(body), 0o644)
	}
	o := pack.Options{ArtifactType: "application/vnd.test.v1", Exclude: []string{"*.log"}, Compression: "none"}
	entries, res, dir := packDir(t, src, o)
	var names []string
	for _, e := range entries {
		names = append(names, e.hdr.Name)
	}
	want := []string{"model/", "model/.ocipackignore", "model/config.json", "model/model.safetensors", "model/sub/", "model/sub/cache/", "model/sub/cache/x", "model/sub/keep.tmp"}
	if !slices.Equal(names, want) {
		t.Errorf("tar entries %q, want %q", names, want)
	}
	m := manifestOf(t, dir, res.Manifest.Digest)
	var recorded map[string][]string
	if err := json.Unmarshal([]byte(m.Annotations[pack.AnnotationExclude]), &recorded); err != nil {
		t.Fatalf("annotation %s: %v", pack.AnnotationExclude, err)
	}
	if got := recorded["model"]; !slices.Equal(got, []string{"*.tmp", "!keep.tmp", "/cache/", "*.log"}) {
		t.Errorf("recorded patterns %q", got)
	}
	// The modelpack preset walks the directory with the same patterns.
	o.Preset = mustPreset(t, "modelpack")
	o.Compression = ""
	res = packInto(t, filepath.Join(t.TempDir(), "L"), inputs(src), o)
	var titles []string
	for _, l := range res.Layers {
		titles = append(titles, l.Descriptor.Annotations["org.opencontainers.image.title"])
	}
	if want := []string{".ocipackignore", "config.json", "model.safetensors", "sub/cache/x", "sub/keep.tmp"}; !slices.Equal(titles, want) {
		t.Errorf("modelpack files %q, want %q", titles, want)
	}
	// No pattern, no annotation (and the golden digests stay).
	_, res, dir = packDir(t, filepath.Join(src, "sub"), pack.Options{})
	if _, ok := manifestOf(t, dir, res.Manifest.Digest).Annotations[pack.AnnotationExclude]; ok {
		t.Error("an exclude annotation without patterns")
	}
}

// TestWarnLinksOutside: a Hugging Face snapshot packed as a directory
// (its files link to ../../blobs/<hash>) is warned about; links that stay
// inside are not.
func TestWarnLinksOutside(t *testing.T) {
	repo := t.TempDir()
	mkfile(t, repo, "blobs/123", []byte("weights"), 0o644)
	snap := filepath.Join(repo, "snapshots", "abc")
	mkfile(t, snap, "inside.txt", []byte("i"), 0o644)
	os.Symlink("../../blobs/123", filepath.Join(snap, "model.safetensors"))
	os.Symlink("inside.txt", filepath.Join(snap, "ok"))
	var warned []string
	packInto(t, filepath.Join(t.TempDir(), "L"), inputs(snap), pack.Options{ArtifactType: "application/vnd.test.v1", Warn: func(s string) { warned = append(warned, s) }})
	if len(warned) != 1 || !strings.Contains(warned[0], "1 symlink(s) lead outside") || !strings.Contains(warned[0], "modelpack") {
		t.Fatalf("warnings %q, want one naming the link and the modelpack preset", warned)
	}
}
