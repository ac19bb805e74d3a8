//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// readIndexJSON returns the bytes of work/L/index.json.
func readIndexJSON(t *testing.T, work string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(work, "L", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameIndexJSON fails if work/L/index.json is no longer before.
func sameIndexJSON(t *testing.T, work string, before []byte) {
	t.Helper()
	if after := readIndexJSON(t, work); !bytes.Equal(after, before) {
		t.Fatalf("index.json changed:\n%s\nwas\n%s", after, before)
	}
}

// TestPackRefusesDocumentLayerType: pack and attach refuse, as a usage
// error naming the type, a layer whose media type is a manifest or index
// type; the layout still verifies and gc works on it.
func TestPackRefusesDocumentLayerType(t *testing.T) {
	work, _ := packed(t)
	before := readIndexJSON(t, work)
	types := []string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, layout.MediaTypeDockerManifest, layout.MediaTypeDockerManifestList}
	for _, mt := range types {
		expect(t, work, exitUsage, []string{"src/a.bin", mt}, "pack", "L:bad", "src/a.bin:"+mt, "--artifact-type", "x/y")
		expect(t, work, exitUsage, []string{"src/dir", mt}, "pack", "L:bad", "src/dir:"+mt, "--artifact-type", "x/y")
		expect(t, work, exitUsage, []string{"src/a.bin", mt}, "attach", "L:v1", "src/a.bin:"+mt, "--artifact-type", "x/y")
	}
	sameIndexJSON(t, work, before)
	must(t, work, "verify", "L")
	must(t, work, "gc", "L")
}

// TestPackRefusesOverlappingInputs: a directory and a file inside it are
// refused by pack up front (extract would refuse the artifact), naming
// both; inputs that only share a parent directory pack and extract.
func TestPackRefusesOverlappingInputs(t *testing.T) {
	work, _ := packed(t)
	before := readIndexJSON(t, work)
	expect(t, work, exitUsage, []string{"src/dir", "src/dir/c.txt"}, "pack", "L:e", "src/dir", "src/dir/c.txt", "--artifact-type", artifactType)
	expect(t, work, exitUsage, []string{"src/dir", "src/dir/c.txt"}, "pack", "L:e", "src/dir/c.txt", "src/dir", "--artifact-type", artifactType)
	sameIndexJSON(t, work, before)
	must(t, work, "pack", "L:ok", "src/dir", "src/a.bin", "--artifact-type", artifactType)
	must(t, work, "extract", "L:ok", "-o", "out")
}

// TestIndexRefusesDuplicateMembers: the same member twice (by tag, or by
// digest) would be extracted into one subdirectory: a usage error naming
// it, index.json untouched. Distinct members index and extract.
func TestIndexRefusesDuplicateMembers(t *testing.T) {
	work, d := packed(t)
	must(t, work, "pack", "L:v2", "src/b.bin", "--artifact-type", artifactType)
	before := readIndexJSON(t, work)
	expect(t, work, exitUsage, []string{`"v1"`, "give each member once"}, "index", "L:col", "v1", "v1")
	expect(t, work, exitUsage, []string{d}, "index", "L:col", "v2", d, d)
	sameIndexJSON(t, work, before)
	must(t, work, "index", "L:col", "v1", "v2", d)
	must(t, work, "extract", "L:col", "-o", "out")
	must(t, work, "verify", "L")
	// A member given by digest is named by its hex: a colon cannot be in a
	// directory name on FAT, exFAT or NTFS.
	hexOnly := strings.TrimPrefix(d, "sha256:")
	if _, err := os.Stat(filepath.Join(work, "out", hexOnly)); err != nil {
		t.Errorf("member given by digest not extracted under its hex: %v", err)
	}
}

// TestPackRefusesLayoutAsInput is RELIABILITY C-36 for inputs that are the
// layout or lie inside it: exit 2 naming both, index.json untouched.
func TestPackRefusesLayoutAsInput(t *testing.T) {
	work, _ := packed(t)
	before := readIndexJSON(t, work)
	for _, in := range []string{"L", "L/blobs", "L/" + layout.PrivateDir, "L/index.json"} {
		expect(t, work, exitUsage, []string{"refusing to pack the output layout into itself", in, "layout L"}, "pack", "L:t", in, "--artifact-type", artifactType)
	}
	expect(t, work, exitUsage, []string{"refusing to pack the output layout into itself"}, "pack", "L:t", "L", "--preset", "modelpack")
	sameIndexJSON(t, work, before)
	must(t, work, "verify", "L")
}

// TestPackManifestOverBudget: `--preset modelpack` of a directory with so
// many long-named files that the manifest would exceed the JSON budget
// every reader enforces is a usage error naming the limit, before any tag
// changes; the layout still verifies.
func TestPackManifestOverBudget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs long paths")
	}
	work, _ := packed(t)
	deep := filepath.Join(work, "model")
	for i := range 6 {
		deep = filepath.Join(deep, fmt.Sprintf("%d%s", i, strings.Repeat("d", 239)))
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// Each layer carries its ~1.7 KB path twice (title and filepath).
	for i := range 2600 {
		name := fmt.Sprintf("%05d%s", i, strings.Repeat("f", 235))
		if err := os.WriteFile(filepath.Join(deep, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := readIndexJSON(t, work)
	expect(t, work, exitUsage, []string{"manifest", fmt.Sprint(strictjson.MaxDocument), "fewer files"}, "pack", "L:big", "model", "--preset", "modelpack")
	sameIndexJSON(t, work, before)
	must(t, work, "verify", "L")
}
