package archive

import (
	"context"
	"fmt"
	"io"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
)

// ErrTooManyVolumes: a split export would need more than MaxVolumes
// volumes. It wraps layout.ErrInvalidArgument: the split size is the
// caller's to change.
var ErrTooManyVolumes = fmt.Errorf("too many volumes: %w", layout.ErrInvalidArgument)

// checkSplit decides, before any volume is created (issue 12 class 9),
// whether split-byte volumes can hold the export: at most MaxVolumes of
// them have names. The tar stream's size is known from the plan, so an
// uncompressed export is decided at once. A compressed stream's size is
// not: the codec's best ratio (compress.MinSize) gives a floor, which
// refuses some plans at once; if the floor fits but the uncompressed
// stream would not, the stream is compressed once to a byte counter and
// the exact size decides (that pass costs one extra read and compression
// of the export, only for volumes this small). The error gives the
// numbers and the smallest split size that fits.
func (p *exportPlan) checkSplit(ctx context.Context, l *layout.Layout, split int64, o ExportOptions) error {
	if split <= 0 {
		return nil
	}
	limit, names := dataVolumeLimit(o)
	tarBytes := p.tarSize(len(mustMarshal(p.index)))
	if tarBytes <= split*limit {
		return nil
	}
	least, what := tarBytes, fmt.Sprintf("its tar stream is %d bytes", tarBytes)
	if alg := o.Compression; alg != "" && alg != compress.None {
		least = alg.MinSize(tarBytes)
		what = fmt.Sprintf("its %d byte tar stream compresses with %s to at least %d bytes", tarBytes, alg, least)
		if least <= split*limit {
			dry := o
			dry.Progress = nil
			var n countingWriter
			n.w = io.Discard
			if _, err := p.export(ctx, l, &n, dry); err != nil {
				return err
			}
			if n.n <= split*limit {
				return nil
			}
			least, what = n.n, fmt.Sprintf("its %d byte tar stream compresses with %s to %d bytes", tarBytes, alg, n.n)
		}
	}
	need := (least + split - 1) / split
	return fmt.Errorf("the export needs at least %d volumes of %d bytes (%s), more than %s allow; the smallest split size that fits is %d bytes: %w", need, split, what, names, (least+limit-1)/limit, ErrTooManyVolumes)
}
