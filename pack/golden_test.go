package pack_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/packtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/digests.json from this run")

const goldenFile = "../testdata/golden/digests.json"

// GoldenArtifactType is the artifactType the golden manifests carry; the CLI
// tests pack the same tree with it and must get the same digests.
const goldenArtifactType = "application/vnd.oci-pack.golden.v1"

// goldenModes are the --compression values pinned by the golden file.
var goldenModes = []string{"auto", "gzip", "zstd", "none"}

// goldenInputs writes the golden tree into a new directory and returns it
// with the inputs naming it, in packtest.TreeArgs order.
func goldenInputs(t *testing.T) (string, []pack.Input) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := packtest.WriteTree(dir); err != nil {
		t.Fatal(err)
	}
	var in []pack.Input
	for _, a := range packtest.TreeArgs {
		in = append(in, pack.Input{Path: filepath.Join(dir, a)})
	}
	return dir, in
}

// TestGoldenDigests packs the golden tree under every compression mode
// with 1, 2 and 8 jobs: the manifest digest must not depend on the jobs,
// and must equal the one pinned in testdata/golden/digests.json — a change
// there means the bytes oci-pack writes changed (a codec bump, a tar
// header change), which breaks reproducibility for users. Regenerate with
// `go test ./pack -run TestGoldenDigests -update` only when that is meant.
func TestGoldenDigests(t *testing.T) {
	_, in := goldenInputs(t)
	got := map[string]string{}
	for _, mode := range goldenModes {
		for _, jobs := range []int{1, 2, 8} {
			dir := filepath.Join(t.TempDir(), "L")
			res := packInto(t, dir, in, pack.Options{ArtifactType: goldenArtifactType, Compression: compress.Algorithm(mode), Jobs: jobs})
			d := res.Manifest.Digest.String()
			if prev, ok := got[mode]; ok && prev != d {
				t.Errorf("--compression %s: %d jobs give %s, 1 job gave %s", mode, jobs, d, prev)
			}
			got[mode] = d
			if jobs == 8 {
				layouttest.Check(t, dir)
			}
		}
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(goldenFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenFile)
		return
	}
	want := readGolden(t)
	for _, mode := range goldenModes {
		if got[mode] != want[mode] {
			t.Errorf("--compression %s: manifest %s, golden %s (the packed bytes changed; see %s)", mode, got[mode], want[mode], goldenFile)
		}
	}
}

// readGolden returns the pinned manifest digest per compression mode.
func readGolden(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./pack -run TestGoldenDigests -update)", err)
	}
	var want map[string]string
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&want); err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	return want
}
