package main

import (
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
