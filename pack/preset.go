package pack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// preset fills in media types and config for a well-known artifact type.
type preset struct {
	artifactType string
	// expand rewrites the inputs (modelpack walks directories into files).
	expand func([]Input, Options) ([]Input, error)
	// mediaType gives a raw file's media type from its title.
	mediaType func(title string) string
	// annotate adds per-layer annotations from the title.
	annotate func(title string) map[string]string
	// config writes the config blob and returns it with annotations for
	// the manifest.
	config func(ctx context.Context, s *cas.Store, plans []*layerPlan, layers []Layer, o Options) (ocispec.Descriptor, map[string]string, error)
}

var presets = map[string]*preset{}

// Presets lists the preset names.
func Presets() []string {
	var out []string
	for k := range presets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lookupPreset(name string) (*preset, error) {
	if name == "" {
		return nil, nil
	}
	p, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown preset %q (have: %s)", ErrUsage, name, strings.Join(Presets(), ", "))
	}
	return p, nil
}
