//go:build unix

package adversarial

import (
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestO08_VolumesOutOfOrder: every volume given, but not in order, is a
// mistake on the command line, not a damaged archive: exit 2 naming the
// order to give them in, before any tag changes.
func TestO08_VolumesOutOfOrder(t *testing.T) {
	t.Parallel()
	for name, order := range map[string][]int{"middle-swapped": {0, 2, 1}, "first-last": {1, 0}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			vols, _ := splitExport(t, w)
			args := []string{"import", "-q"}
			for _, i := range order {
				args = append(args, vols[i])
			}
			args = append(args, vols[len(order):]...)
			r := w.run(t, append(args, w.L)...)
			t.Logf("exit %d: %s", r.Code, r.Stderr)
			rtest.AssertFail(t, r, rtest.ExitUsage, "out of order", "give them in order, "+strings.Join(vols, " "))
			w.rejected(t, r)
		})
	}
}
