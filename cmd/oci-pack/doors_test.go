//go:build unix

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// blobNames lists the files under work/L/blobs/sha256.
func blobNames(t *testing.T, work string) map[string]bool {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(work, "L", "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range es {
		out[e.Name()] = true
	}
	return out
}

// Every document a command writes passes the layout's document door: an
// index or artifact whose artifactType is not a media type is a usage
// error, and nothing is written (verify would reject it afterwards).
func TestInvalidDocumentsNotWritten(t *testing.T) {
	work, _ := packed(t)
	if err := os.WriteFile(filepath.Join(work, "src", "new.bin"), []byte("bytes no blob holds yet"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, blobs := readIndexJSON(t, work), blobNames(t, work)
	expect(t, work, exitUsage, []string{"not a media type"}, "index", "L:b", "v1", "--artifact-type", "not a media type")
	expect(t, work, exitUsage, []string{"not a media type"}, "attach", "L:v1", "src/new.bin", "--artifact-type", "not a media type")
	expect(t, work, exitUsage, []string{"not a media type"}, "pack", "L:v9", "src/new.bin", "--artifact-type", "not a media type")
	sameIndexJSON(t, work, before)
	for name := range blobNames(t, work) {
		if !blobs[name] {
			t.Errorf("blob %s written by a refused command", name)
		}
	}
	must(t, work, "verify", "L")
}
