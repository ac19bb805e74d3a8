//go:build unix

package adversarial

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestG_ImportResumeStatePlanted: the state a resumable import keeps under
// LAYOUT/.oci-pack/resume (import-<key>.json, key from the archive's path)
// planted as a FIFO, a symlink to a file outside, a file far over its
// budget, or torn JSON: the import neither hangs nor trusts it (it starts
// over and succeeds), nothing outside the layout is read into it or
// changed, and verify passes. (The partial blob beside it is refused as a
// link, hard link or FIFO by layout.OpenPartial:
// TestOpenPartialRefusesLinksAndSecondHolder.)
func TestG_ImportResumeStatePlanted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		plant func(w *world, state, partial string)
	}{
		{"state FIFO", func(w *world, state, _ string) { syscall.Mkfifo(state, 0o644) }},
		{"state symlink outside", func(w *world, state, _ string) {
			os.Symlink(w.S.Path("secret"), state)
		}},
		{"state huge", func(w *world, state, _ string) {
			f, _ := os.Create(state)
			f.Truncate(64 << 20)
			f.Close()
		}},
		{"state torn", func(w *world, state, _ string) {
			os.WriteFile(state, []byte(`{"format":"oci-pack-import-resume/v1","archive":`), 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorldWith(t, rtest.Good(t))
			abs, _ := filepath.Abs(w.GoodTar)
			sum := sha256.Sum256([]byte(abs))
			key := "import-" + hex.EncodeToString(sum[:12])
			dir := filepath.Join(w.L, ".oci-pack", "resume")
			os.MkdirAll(dir, 0o755)
			c.plant(w, filepath.Join(dir, key+".json"), filepath.Join(dir, key+".partial"))
			w.S = rtest.NewSentinel(t, w.Dir, "L", "in", "out")
			r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Timeout: 30 * time.Second}, "import", "-q", w.GoodTar, w.L, "--tag-conflict", "overwrite")
			if r.TimedOut || r.Code != 0 {
				t.Fatalf("import with a planted resume file: %v", r)
			}
			w.S.AssertIntact(t)
			w.S.AssertNotLeaked(t, []string{w.L})
			rtest.AssertVerify(t, w.L)
			if strings.Contains(r.Stderr, "resuming at") {
				t.Errorf("resumed from a planted state: %s", r.Stderr)
			}
		})
	}
}
