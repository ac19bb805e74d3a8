package pack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
)

// presetConfig is what a preset contributes besides layers.
type presetConfig struct {
	content     []byte
	mediaType   string
	annotations map[string]string // for the manifest
}

// Preset fills in media types and config for a well-known artifact type
// (LookupPreset; Presets lists them). Presets are data: what a preset
// decides is in its fields, not in code paths of Pack.
type Preset struct {
	// Name is what the CLI's --preset calls it.
	Name         string
	artifactType string
	// expand rewrites the inputs (modelpack walks directories into files).
	expand func([]Input, Options) ([]Input, error)
	// mediaType gives a raw file's media type from its title.
	mediaType func(title string) string
	// annotate adds per-layer annotations from the title.
	annotate func(title string) map[string]string
	// config returns the config document, its media type, and annotations
	// for the manifest.
	config func(plans []*layerPlan, layers []Layer, o Options) (presetConfig, error)
	// imageVolume: the preset writes the image-volume form alone (modelcar).
	imageVolume bool
}

var presets = map[string]*Preset{}

// Presets lists the preset names.
func Presets() []string {
	var out []string
	for k := range presets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (*Preset, error) {
	p, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown preset %q (have: %s)", layout.ErrInvalidArgument, name, strings.Join(Presets(), ", "))
	}
	return p, nil
}
