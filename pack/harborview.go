package pack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/layout/strictjson"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// harborTypeRe is how Harbor names an artifact type from the config media
// type (goharbor/harbor processor/default.go).
var harborTypeRe = regexp.MustCompile(`^application/vnd\.[^.]*\.(.*)\.config\.[^.]*\+json$`)

// HarborView is what Harbor would show for a manifest.
type HarborView struct {
	Type     string            `json:"type"`
	Icon     string            `json:"icon,omitempty"` // digest of the icon layer
	Metadata map[string]any    `json:"metadata,omitempty"`
	Skipped  []string          `json:"skipped,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	Extra    map[string]string `json:"-"`
}

// Harbor computes Harbor's view of a manifest whose config blob is config
// (nil if unavailable): the type name, the icon layer (the first layer
// annotated as icon), and the config's top-level keys minus the skip-list.
func Harbor(m ocispec.Manifest, config []byte) HarborView {
	v := HarborView{Type: "UNKNOWN"}
	if g := harborTypeRe.FindStringSubmatch(m.Config.MediaType); g != nil {
		v.Type = strings.ToUpper(g[1])
	} else {
		v.Warnings = append(v.Warnings, fmt.Sprintf("Harbor will show type UNKNOWN: config media type %q does not match application/vnd.<org>.<type>.config.<version>+json", m.Config.MediaType))
	}
	for _, l := range m.Layers {
		if _, ok := l.Annotations[AnnotationHarborIcon]; ok {
			v.Icon = l.Digest.String()
			switch l.MediaType {
			case "image/png", "image/gif", "image/jpeg":
			default:
				v.Warnings = append(v.Warnings, fmt.Sprintf("icon layer %s has media type %q; Harbor shows only image/png, image/gif or image/jpeg", l.Digest, l.MediaType))
			}
			if l.Size > MaxIconSize {
				v.Warnings = append(v.Warnings, fmt.Sprintf("icon layer %s is %d bytes; Harbor reads at most %d", l.Digest, l.Size, MaxIconSize))
			}
			break
		}
	}
	skip := map[string]bool{}
	if s := m.Config.Annotations[AnnotationHarborSkipList]; s != "" {
		for _, k := range strings.Split(s, ",") {
			skip[strings.TrimSpace(k)] = true
		}
	}
	if config == nil {
		return v
	}
	var obj map[string]json.RawMessage
	if err := strictjson.Unmarshal(config, &obj); err != nil || obj == nil {
		v.Warnings = append(v.Warnings, "config is not a JSON object: Harbor cannot show its metadata")
		return v
	}
	v.Metadata = map[string]any{}
	for k, raw := range obj {
		if skip[k] {
			v.Skipped = append(v.Skipped, k)
			continue
		}
		var val any
		_ = json.Unmarshal(raw, &val)
		v.Metadata[k] = val
	}
	sort.Strings(v.Skipped)
	return v
}

// TargetsHarbor reports whether a manifest was made for Harbor's display:
// a layer annotated as its icon, or a skip-list on its config. Harbor's
// view and warnings matter for those; for others they are noise.
func TargetsHarbor(config *ocispec.Descriptor, layers []ocispec.Descriptor) bool {
	if config != nil {
		if _, ok := config.Annotations[AnnotationHarborSkipList]; ok {
			return true
		}
	}
	for _, l := range layers {
		if _, ok := l.Annotations[AnnotationHarborIcon]; ok {
			return true
		}
	}
	return false
}
