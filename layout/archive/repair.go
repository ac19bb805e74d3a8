package archive

import (
	"context"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// RepairSource repairs a layout from archive files (`verify --repair
// a.tar`): one archive, or the first volume of a set, as import takes
// them. Each round reads the archives through import's checks; only the
// blobs asked for are staged, each verified against its name before it
// replaces a corrupt copy. The archives' index.json is not used.
type RepairSource struct {
	Files []string
	// Notify, if not nil, receives notices (a volume set without its
	// sidecar).
	Notify func(string)
}

// Restore implements layout.RepairSource.
func (s RepairSource) Restore(ctx context.Context, dst *layout.Layout, want map[digest.Digest]ocispec.Descriptor) ([]digest.Digest, error) {
	a, err := OpenArchives(s.Files, s.Notify)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	set := make(map[digest.Digest]bool, len(want))
	for d := range want {
		set[d] = true
	}
	var got []digest.Digest
	for _, src := range a.srcs {
		im, err := streamArchive(ctx, dst, src, ImportOptions{}, set)
		if im != nil {
			got = append(got, im.restored...)
		}
		if err != nil {
			return got, err
		}
		for _, d := range im.restored {
			delete(set, d)
		}
	}
	return got, nil
}
