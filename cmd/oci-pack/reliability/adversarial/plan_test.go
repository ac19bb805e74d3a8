package adversarial

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// Issue 12 class 9: whatever can be decided from the plan is decided
// before anything is written, budgets bound the work before it expands,
// and a refusal gives the numbers that decided it and the flag that
// changes them. (The import reserve on a small file system: crash's
// TestFullDisk/import-small-fs.)

// TestPlan_SplitTooSmall: a split size that needs more volumes than
// names allow is a usage error before any volume exists, compressed or
// not; the size it names as the smallest that fits works.
func TestPlan_SplitTooSmall(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rtest.Must(t, "import", "-q", w.GoodTar, w.L)
	for _, c := range []struct{ split, comp string }{{"1", "none"}, {"7", "none"}, {"1", "gzip"}} {
		out := filepath.Join(w.Dir, "out-"+c.split+"-"+c.comp)
		os.MkdirAll(out, 0o755)
		r := w.run(t, "export", "-q", w.L+":v1", "-o", filepath.Join(out, "x.tar"), "--split-size", c.split, "--compression", c.comp)
		rtest.AssertFail(t, r, rtest.ExitUsage, "--split-size", "volumes of "+c.split+" bytes", "smallest split size that fits is")
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("[N] the refused export wrote %d files first", len(ents))
		}
		if c.comp != "gzip" {
			continue // each check of the size named writes ~1,000 volumes: once is enough
		}
		var fits int
		if i := strings.Index(r.Stderr, "fits is "); i >= 0 {
			fmt.Sscanf(r.Stderr[i+len("fits is "):], "%d", &fits)
		}
		if r := w.run(t, "export", "-q", w.L+":v1", "-o", filepath.Join(out, "ok.tar"), "--split-size", fmt.Sprint(fits), "--compression", c.comp); r.Code != 0 {
			t.Errorf("export with the split size the refusal named (%d): %v", fits, r)
		}
	}
}

// TestPlan_ChartYAMLAliasBomb: a Chart.yaml of a few KB whose aliases
// expand to ~100 MB is refused before it expands: usage error, bounded
// memory, nothing stored.
func TestPlan_ChartYAMLAliasBomb(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var y strings.Builder
	y.WriteString("apiVersion: v2\nname: mychart\nversion: 1.0.0\nl0: &l0 \"lollollol\"\n")
	for i := 1; i <= 8; i++ {
		y.WriteString(fmt.Sprintf("l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 10), ",")))
	}
	chart := filepath.Join(w.In, "mychart")
	os.MkdirAll(filepath.Join(chart, "templates"), 0o755)
	w.input(t, "mychart/Chart.yaml", []byte(y.String()))
	w.input(t, "mychart/templates/cm.yaml", []byte("kind: ConfigMap\n"))
	r := w.run(t, "pack", "-q", w.L+":chart", chart, "--preset", "helm")
	t.Logf("exit %d, peak RSS %d KiB: %s", r.Code, r.PeakRSSKB, r.Stderr)
	rtest.AssertFail(t, r, rtest.ExitUsage, "Chart.yaml", "aliases expanded")
	rtest.AssertRSS(t, r)
	w.Snap.AssertUnchanged(t)
}
