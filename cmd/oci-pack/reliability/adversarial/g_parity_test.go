//go:build unix

package adversarial

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestG_ParityOutputs: `export --parity` writes its parity volumes by the
// output rule (I13) and never hangs (I15): a FIFO, a link to /dev/null,
// a directory or a dangling link at FILE.parP is refused (exit 2, left as
// it was, no data volume or sidecar published) within the watchdog; a
// symlink to a regular file is followed (the target gets the parity
// volume's bytes, the link stays). The refusal of the second parity
// volume used to deadlock: the first one's abort waited for a worker not
// yet started.
func TestG_ParityOutputs(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	export := func(out string) rtest.Result {
		return rtest.RunWith(t, rtest.Opts{Dir: w.Work, Timeout: 30 * time.Second},
			"export", "-q", w.L+":v1", "-o", out, "--split-size", "4KiB", "--parity", "2")
	}
	clean := filepath.Join(w.In, "clean", "x.tar")
	os.MkdirAll(filepath.Dir(clean), 0o755)
	if r := export(clean); r.Code != 0 {
		t.Fatalf("clean export: %v", r)
	}
	for _, par := range []string{".par0", ".par1"} {
		for _, c := range []struct {
			name  string
			plant func(p string)
		}{
			{"FIFO", func(p string) { syscall.Mkfifo(p, 0o644) }},
			{"link to /dev/null", func(p string) { os.Symlink("/dev/null", p) }},
			{"directory", func(p string) { os.Mkdir(p, 0o755) }},
			{"dangling link", func(p string) { os.Symlink("nowhere", p) }},
		} {
			dir := filepath.Join(w.In, c.name+par)
			os.MkdirAll(dir, 0o755)
			out := filepath.Join(dir, "x.tar")
			c.plant(out + par)
			before := identity(t, out+par)
			r := export(out)
			rtest.AssertFail(t, r, rtest.ExitUsage, out+par)
			if got := identity(t, out+par); got != before {
				t.Errorf("%s at %s: replaced: %s, was %s", c.name, par, got, before)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%s at %s: left %d entries, want only what was planted", c.name, par, len(entries))
			}
		}
	}
	dir := filepath.Join(w.In, "symlink")
	os.MkdirAll(dir, 0o755)
	target := filepath.Join(w.In, "elsewhere.par0")
	os.WriteFile(target, []byte("old"), 0o644)
	os.Symlink(target, filepath.Join(dir, "x.tar.par0"))
	if r := export(filepath.Join(dir, "x.tar")); r.Code != 0 {
		t.Fatalf("parity volume through a symlink: %v", r)
	}
	assertLink(t, filepath.Join(dir, "x.tar.par0"), target)
	want, _ := os.ReadFile(clean + ".par0")
	if got, _ := os.ReadFile(target); !bytes.Equal(got, want) {
		t.Errorf("the symlink's target holds %d bytes, not the parity volume's %d", len(got), len(want))
	}
	w.Snap.AssertUnchanged(t)
}
