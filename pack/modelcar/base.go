package modelcar

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Base is an image the files are stacked on (a KServe modelcar sidecar
// needs a shell): each platform of the form takes the base's manifest for
// that platform, keeps its config (environment, entrypoint, history) and
// its layers, and adds the file layers on top.
type Base struct {
	// Layout holds the base; it may be the layout written to. Build copies
	// what it uses (manifest, config, layers) into the target layout.
	Layout *layout.Layout
	// Desc is the base: an image index or an image manifest.
	Desc ocispec.Descriptor
	// Name names the base in messages (LAYOUT:REF as given).
	Name string
}

// baseImage is the base's manifest for one platform.
type baseImage struct {
	name   string
	layers []ocispec.Descriptor
	raw    map[string]json.RawMessage // the config, key by key
	diffs  []digest.Digest
}

// resolve finds the base's manifest for every platform, copies its graph
// into dst, and reads its config. A platform the base lacks is an error
// wrapping layout.ErrInvalidArgument.
func (b *Base) resolve(ctx context.Context, dst *layout.Layout, platforms []ocispec.Platform) (map[string]*baseImage, error) {
	doc, err := b.Layout.ReadDocument(ctx, b.Desc)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b.Name, err)
	}
	out := map[string]*baseImage{}
	for _, p := range platforms {
		md := b.Desc
		if doc.IsIndex() {
			if md, err = pickPlatform(doc.Manifests, p); err != nil {
				return nil, fmt.Errorf("%w: base %s: %v", layout.ErrInvalidArgument, b.Name, err)
			}
		}
		bi, err := b.read(ctx, md, p, !doc.IsIndex())
		if err != nil {
			return nil, err
		}
		if b.Layout != dst {
			if _, err := layout.CopyGraph(ctx, b.Layout, dst, md, layout.CopyOptions{}); err != nil {
				return nil, fmt.Errorf("copy base %s (%s): %w", b.Name, PlatformString(p), err)
			}
		}
		out[PlatformString(p)] = bi
	}
	return out, nil
}

// pickPlatform returns the member of an index for p: the one whose
// platform matches exactly, else — when p has no variant — the only member
// of p's os and architecture.
func pickPlatform(members []ocispec.Descriptor, p ocispec.Platform) (ocispec.Descriptor, error) {
	var loose []ocispec.Descriptor
	for _, m := range members {
		mp := m.Platform
		if mp == nil || !layout.IsManifest(m.MediaType) || mp.OS != p.OS || mp.Architecture != p.Architecture {
			continue
		}
		if mp.Variant == p.Variant {
			return m, nil
		}
		loose = append(loose, m)
	}
	if p.Variant == "" && len(loose) == 1 {
		return loose[0], nil
	}
	var have []string
	for _, m := range members {
		if m.Platform != nil {
			have = append(have, PlatformString(*m.Platform))
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("%w: no image for %s (it has %v)", ErrPlatform, PlatformString(p), have)
}

// ErrPlatform: the base image has no image for a platform asked for (it
// wraps layout.ErrInvalidArgument).
var ErrPlatform = fmt.Errorf("%w: platform not in the base image", layout.ErrInvalidArgument)

// read reads the base manifest md and its config; single says the base is
// one manifest, whose config must then be of platform p.
func (b *Base) read(ctx context.Context, md ocispec.Descriptor, p ocispec.Platform, single bool) (*baseImage, error) {
	who := fmt.Sprintf("base %s (%s)", b.Name, PlatformString(p))
	m, err := b.Layout.ReadDocument(ctx, md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", who, err)
	}
	if m.IsIndex() || m.Config == nil || (m.Config.MediaType != ocispec.MediaTypeImageConfig && m.Config.MediaType != mediaTypeDockerConfig) {
		return nil, fmt.Errorf("%w: %s is not a container image (its config is not an image config)", layout.ErrInvalidArgument, who)
	}
	cb, err := b.Layout.ReadBlobJSON(ctx, *m.Config)
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", who, err)
	}
	bi := &baseImage{name: who, layers: m.Layers}
	if err := strictjson.Unmarshal(cb, &bi.raw); err != nil {
		return nil, fmt.Errorf("%s config %s: %v: %w", who, m.Config.Digest, err, layout.ErrCorrupt)
	}
	var head struct {
		ocispec.Platform
		RootFS ocispec.RootFS `json:"rootfs"`
	}
	if err := json.Unmarshal(cb, &head); err != nil {
		return nil, fmt.Errorf("%s config %s: %v: %w", who, m.Config.Digest, err, layout.ErrCorrupt)
	}
	if single && (head.OS != p.OS || head.Architecture != p.Architecture) {
		return nil, fmt.Errorf("%w: %s is %s/%s", ErrPlatform, who, head.OS, head.Architecture)
	}
	if len(head.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s config %s lists %d diff_ids for %d layers: %w", who, m.Config.Digest, len(head.RootFS.DiffIDs), len(m.Layers), layout.ErrCorrupt)
	}
	for i, d := range head.RootFS.DiffIDs {
		if err := cas.Validate(d); err != nil {
			return nil, fmt.Errorf("%s config diff_ids[%d]: %w", who, i, err)
		}
	}
	bi.diffs = head.RootFS.DiffIDs
	return bi, nil
}

// mediaTypeDockerConfig is a Docker image config, which a base may have.
const mediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"

// config returns the base's config with the files' diff_ids and history
// appended; every other key is kept as the base has it.
func (bi *baseImage) config(diffIDs []digest.Digest, history []ocispec.History) ([]byte, error) {
	out := make(map[string]json.RawMessage, len(bi.raw)+2)
	for k, v := range bi.raw {
		out[k] = v
	}
	rootfs, err := json.Marshal(ocispec.RootFS{Type: "layers", DiffIDs: append(append([]digest.Digest(nil), bi.diffs...), diffIDs...)})
	if err != nil {
		return nil, err
	}
	out["rootfs"] = rootfs
	var old []json.RawMessage
	if h, ok := bi.raw["history"]; ok {
		if err := json.Unmarshal(h, &old); err != nil {
			return nil, fmt.Errorf("%s config history: %v: %w", bi.name, err, layout.ErrCorrupt)
		}
	}
	for _, h := range history {
		b, err := json.Marshal(h)
		if err != nil {
			return nil, err
		}
		old = append(old, b)
	}
	if out["history"], err = json.Marshal(old); err != nil {
		return nil, err
	}
	// Without HTML escaping: the base's strings ("a && b") keep their bytes.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
