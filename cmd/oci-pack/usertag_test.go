package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tag of the referrers tag schema's form is refused from the command
// line (tag, copy to a new name): attach would move it without --force.
func TestReservedReferrersTag(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	must(t, dir, "pack", "L:v1", "a", "--artifact-type", "application/x.t")
	reserved := "sha256-" + strings.Repeat("ab", 32)
	expect(t, dir, 2, []string{"reserved", reserved}, "tag", "L:v1", reserved)
	expect(t, dir, 2, []string{"reserved"}, "copy", "L:v1", "M:"+reserved)
	must(t, dir, "tag", "L:v1", "sha256-not-hex") // only the exact form is reserved
	if r := must(t, dir, "ls", "L", "--all"); strings.Contains(r.stdout, reserved) {
		t.Errorf("reserved tag set:\n%s", r.stdout)
	}
}

// A layer's digest given where a manifest is needed is the caller's
// mistake (exit 2), not a corrupt layout.
func TestLayerDigestAsManifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte("not json"), 0o644)
	must(t, dir, "pack", "L:v1", "a", "--artifact-type", "application/x.t")
	sum := sha256.Sum256([]byte("not json"))
	layer := "sha256:" + hex.EncodeToString(sum[:])
	expect(t, dir, 2, []string{layer, "not a manifest or index"}, "tag", "L@"+layer, "v2")
}
