//go:build unix

package adversarial

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestClass8_VolumeNames: a volume set whose name holds a newline (or
// other odd bytes) is found as a set — FILE.000 finds FILE.001, … and
// FILE.sha256 — and imports; without the sidecar, the note says which
// file it looked for: FILE.sha256, not FILE.000.sha256.
func TestClass8_VolumeNames(t *testing.T) {
	w := newWorldWith(t, rtest.Good(t))
	for _, name := range []string{"a\nb.tar", "tab\there.tar", " lead.tar", "x.000.tar"} {
		t.Run(strings.ReplaceAll(name, "\n", `\n`), func(t *testing.T) {
			dir := t.TempDir()
			base := filepath.Join(dir, name)
			rtest.Must(t, "export", "-q", w.L+":v1", "-o", base, "--split-size", "3KiB")
			if _, err := os.Stat(base + ".002"); err != nil {
				t.Fatalf("want three volumes or more: %v", err)
			}
			target := filepath.Join(dir, "T")
			r := rtest.Run(t, "import", base+".000", target)
			rtest.AssertCode(t, r, rtest.ExitOK)
			if got := tags(t, target)["v1"]; got != w.Good.Tagged(t, "v1").Digest.String() {
				t.Errorf("v1 = %q after importing the set", got)
			}
			if err := os.Remove(base + ".sha256"); err != nil {
				t.Fatal(err)
			}
			r = rtest.Run(t, "import", base+".000", filepath.Join(dir, "T2"))
			rtest.AssertCode(t, r, rtest.ExitOK)
			if !strings.Contains(r.Stderr, "no "+base+".sha256 beside") {
				t.Errorf("the note does not name %q: %s", base+".sha256", r.Stderr)
			}
		})
	}
}
