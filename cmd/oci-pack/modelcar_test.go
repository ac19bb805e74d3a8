//go:build unix

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/pack/packtest"
)

// goldenModel writes the golden tree into work/model.
func goldenModel(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	if err := os.Mkdir(filepath.Join(work, "model"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := packtest.WriteTree(filepath.Join(work, "model")); err != nil {
		t.Fatal(err)
	}
	return work
}

// TestModelcarCLI: pack --preset modelcar of the golden tree gives the
// index pinned in testdata/golden/modelcar.json on any --jobs, once per
// stdout line; --image-volume beside --preset modelpack prints the
// ModelPack digest and tags TAG-image; inspect names the platforms and the
// raw layer each tar layer mirrors; extract of either form gives the same
// files; du says the layout keeps both forms; export carries the tar
// layers as recipes, and import rebuilds them, verify passing.
func TestModelcarCLI(t *testing.T) {
	b, err := os.ReadFile("../../testdata/golden/modelcar.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]string
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	work := goldenModel(t)
	for _, jobs := range []string{"1", "8"} {
		r := must(t, work, "pack", "L"+jobs+":mc", "model", "--preset", "modelcar", "--jobs", jobs)
		if got := strings.TrimSpace(r.stdout); got != golden["modelcar"] || !digestLine.MatchString(r.stdout) {
			t.Errorf("--preset modelcar --jobs %s: %q, golden %s", jobs, r.stdout, golden["modelcar"])
		}
	}
	must(t, work, "pack", "L:m", "model", "--preset", "modelpack", "--image-volume")
	var ls []struct {
		Tag    string `json:"tag"`
		Digest string `json:"digest"`
	}
	json.Unmarshal([]byte(must(t, work, "ls", "L", "--format", "json").stdout), &ls)
	found := false
	for _, e := range ls {
		found = found || (e.Tag == "m-image" && e.Digest == golden["modelpack+image-volume"])
	}
	if !found {
		t.Errorf("ls L: %+v, want m-image at %s", ls, golden["modelpack+image-volume"])
	}
	out := must(t, work, "inspect", "L:m-image").stdout
	for _, want := range []string{"image-volume form: linux/amd64, linux/arm64; 10 file layer(s)", "model.safetensors  sha256:", "mirrors raw sha256:", "of the subject)"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect L:m-image lacks %q:\n%s", want, out)
		}
	}
	if du := must(t, work, "du", "L").stdout; !strings.Contains(du, "image-volume form: 10 tar layer(s)") {
		t.Errorf("du L does not say the layout keeps both forms:\n%s", du)
	}
	must(t, work, "extract", "L:m-image", "-o", "img")
	must(t, work, "extract", "L:m", "-o", "raw")
	if a, b := listTree(t, filepath.Join(work, "img")), listTree(t, filepath.Join(work, "raw")); a != b || a == "" {
		t.Errorf("extract of the image form:\n%s\nof the ModelPack form:\n%s", a, b)
	}
	r := must(t, work, "export", "L:m", "L:m-image", "-o", "x.tar")
	if !strings.Contains(r.stderr, "carried 10 image-volume tar layer(s)") {
		t.Errorf("export: %s", r.stderr)
	}
	r = must(t, work, "import", "x.tar", "F")
	if !strings.Contains(r.stderr, "rebuilt 10 image-volume tar layer(s)") {
		t.Errorf("import: %s", r.stderr)
	}
	must(t, work, "verify", "F")
	expect(t, work, 2, []string{"--platform needs --image-volume"}, "pack", "L:x", "model", "--preset", "modelpack", "--platform", "linux/amd64")
	expect(t, work, 2, []string{"platform"}, "pack", "L:x", "model", "--preset", "modelcar", "--platform", "linux")
}

// listTree lists the regular files under dir with their sha256, one per
// line.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		data, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(data)
		b.WriteString(rel + " " + hex.EncodeToString(sum[:]) + "\n")
		return nil
	})
	return b.String()
}
