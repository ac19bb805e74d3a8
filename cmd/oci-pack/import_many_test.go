package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `import a.tar.000 b.tar L` imports a split archive and a plain one
// together; a tag the two set differently is a conflict (exit 4) that
// leaves L as it was.
func TestImportSeveralArchives(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		os.WriteFile(filepath.Join(dir, n), []byte(strings.Repeat(n, 3000)), 0o644)
		must(t, dir, "pack", n+"L:"+n, n, "--artifact-type", "application/x."+n)
		must(t, dir, "pack", n+"L:same", n, "--artifact-type", "application/x.same")
	}
	must(t, dir, "export", "aL:a", "-o", "a.tar", "--split-size", "2KiB")
	must(t, dir, "export", "bL:b", "-o", "b.tar")
	must(t, dir, "import", "a.tar.000", "b.tar", "L")
	r := must(t, dir, "ls", "L")
	for _, tag := range []string{"a ", "b "} {
		if !strings.Contains(r.stdout, "\n"+tag) {
			t.Errorf("ls L lacks tag %q:\n%s", tag, r.stdout)
		}
	}
	must(t, dir, "verify", "L")

	must(t, dir, "export", "aL", "-o", "all-a.tar")
	must(t, dir, "export", "bL", "-o", "all-b.tar")
	expect(t, dir, 4, []string{`tag "same"`, "all-a.tar", "all-b.tar"}, "import", "all-a.tar", "all-b.tar", "M")
	// M did not exist: the failed import leaves no layout behind.
	if _, err := os.Stat(filepath.Join(dir, "M")); !os.IsNotExist(err) {
		t.Errorf("a failed import into a new layout left it (%v)", err)
	}
}

// An import into a new layout that stops inside a large blob (a stick
// pulled out: the archive ends early) keeps the new layout with its
// checkpoint, says so, and a re-run of the import with the archive whole
// finishes and leaves no checkpoint behind.
func TestImportTruncatedKeepsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 12<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	os.WriteFile(filepath.Join(dir, "w.bin"), big, 0o644)
	must(t, dir, "pack", "S:v1", "w.bin", "--artifact-type", "application/x.w")
	must(t, dir, "export", "S:v1", "-o", "w.tar")
	whole, err := os.ReadFile(filepath.Join(dir, "w.tar"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.tar")
	os.WriteFile(cut, whole[:9<<20], 0o644)
	expect(t, dir, 3, []string{"truncated", "running this import again continues there"}, "import", "cut.tar", "M")
	states, _ := filepath.Glob(filepath.Join(dir, "M", ".oci-pack", "resume", "import-*"))
	if len(states) != 2 {
		t.Fatalf("the new layout M with its checkpoint (state and partial blob): %v", states)
	}
	os.WriteFile(cut, whole, 0o644)
	must(t, dir, "import", "cut.tar", "M")
	must(t, dir, "verify", "M:v1")
	if left, _ := filepath.Glob(filepath.Join(dir, "M", ".oci-pack", "resume", "import-*")); len(left) != 0 {
		t.Errorf("a finished import left its checkpoint: %v", left)
	}
}
