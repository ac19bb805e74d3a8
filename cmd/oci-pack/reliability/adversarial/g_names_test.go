package adversarial

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestG_EntryNameBytes: an archive of 99,000 empty extra files with 4 KiB
// names (each allowed on its own: a top-level extra file is read and
// discarded) is 5 MiB as .tar.gz but held 400 MiB of names — 660 MiB of
// RSS — to refuse duplicates (and, for a plain tar, in each resume
// checkpoint). The names an import remembers have a budget: it is
// refused (exit 3, one line with the numbers) within bounded memory [M],
// the layout untouched [U].
func TestG_EntryNameBytes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	long := strings.Repeat("a", 4000)
	for i := range 99000 {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("x%07d%s", i, long), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	p := w.input(t, "names.tar.gz", buf.Bytes())
	r := w.run(t, "import", "-q", p, w.L)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, "names total more than")
	rtest.AssertRSS(t, r)
	w.Snap.AssertUnchanged(t)
	w.S.AssertIntact(t)
}
