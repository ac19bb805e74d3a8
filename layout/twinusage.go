package layout

import (
	"context"

	"github.com/opencontainers/go-digest"
)

// TwinUsage is what the image-volume form costs beside the raw form: the
// reachable tar layers (AnnotationTarOf) whose raw twin is reachable too.
// The layout stores both forms; an export carries such a layer as a
// recipe, so the bytes cross the gap once.
type TwinUsage struct {
	Layers int   `json:"layers"`
	Bytes  int64 `json:"bytes"`
}

// TwinUsage counts the twinned tar layers reachable from index.json.
func (l *Layout) TwinUsage(ctx context.Context) (TwinUsage, error) {
	reach, err := l.Reachable(ctx)
	if err != nil {
		return TwinUsage{}, err
	}
	var u TwinUsage
	for _, d := range reach {
		raw, ok := d.Annotations[AnnotationTarOf]
		if !ok {
			continue
		}
		if _, twin := reach[digest.Digest(raw)]; twin && digest.Digest(raw) != d.Digest {
			u.Layers++
			u.Bytes += d.Size
		}
	}
	return u, nil
}
