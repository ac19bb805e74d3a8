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
