package adversarial

import (
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestG_OneDigestTwoSizes: a manifest listing one blob twice, with two
// sizes, is ambiguous (I10): a reader that checks only the first
// descriptor passes, one that reads the second fails. Import refuses it
// (exit 3, one line naming the digest and both sizes, the layout
// untouched), and so does verify on a layout that holds it; gc, a repair
// tool, still runs there and keeps the blob.
func TestG_OneDigestTwoSizes(t *testing.T) {
	t.Parallel()
	f := rtest.Good(t).Clone(t)
	var layer ocispec.Descriptor
	f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
		layer = m.Layers[0]
		l := layer
		l.Size++
		m.Layers = append(m.Layers, l)
	})
	w := newWorld(t)
	w.importRejected(t, f.Tar(t), rtest.ExitIntegrity, layer.Digest.String(), "one digest has one size")

	w = newWorldWith(t, f)
	r := w.run(t, "verify", "-q", w.L)
	rtest.AssertCode(t, r, rtest.ExitIntegrity)
	rtest.Must(t, "gc", "-q", w.L)
	w.Snap.AssertUnchanged(t)
}
