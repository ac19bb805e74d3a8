package pack

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"sigs.k8s.io/yaml"
)

// Helm's OCI media types (helm.sh/helm/v3/pkg/registry).
const (
	HelmConfigType = "application/vnd.cncf.helm.config.v1+json"
	HelmChartLayer = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// maxChartYAML bounds Chart.yaml.
const maxChartYAML = 1 << 20

func init() {
	presets["helm"] = &Preset{
		Name:   "helm",
		expand: expandHelmChart,
		config: helmConfig,
	}
}

// expandHelmChart takes one chart: a directory holding Chart.yaml, which
// becomes a gzip tar under the chart's name as `helm package` lays it out,
// or a packaged .tgz, stored as is.
func expandHelmChart(in []Input, o Options) ([]Input, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: the helm preset packs exactly one chart (a directory or a .tgz), got %d inputs", layout.ErrInvalidArgument, len(in))
	}
	meta, err := readChartMeta(in[0].Path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(in[0].Path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []Input{{Path: in[0].Path, Title: filepath.Base(in[0].Path), MediaType: HelmChartLayer, Verbatim: true}}, nil
	}
	if _, err := os.Lstat(filepath.Join(in[0].Path, ".helmignore")); err == nil && o.Warn != nil {
		o.Warn(".helmignore is not applied: every file in the chart directory is packed (run `helm package` and pack the .tgz to honour it)")
	}
	return []Input{{Path: in[0].Path, Title: meta.Name, MediaType: HelmChartLayer}}, nil
}

// chartMeta is the part of Chart.yaml oci-pack needs; the config keeps
// every key.
type chartMeta struct {
	APIVersion  string `json:"apiVersion"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	raw         []byte // Chart.yaml as JSON
	// archive is the digest of a packaged chart's bytes as read and
	// checked; "" for a chart directory.
	archive digest.Digest
}

// readChartMeta reads Chart.yaml from a chart directory or from the top
// directory of a packaged chart (.tgz), whose every entry it checks
// (chartYAMLFromArchive).
func readChartMeta(p string) (*chartMeta, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", p, err)
	}
	var y []byte
	var archive digest.Digest
	if fi.IsDir() {
		if y, err = readChartYAML(p); err != nil {
			return nil, err
		}
	} else if y, archive, err = chartYAMLFromArchive(p); err != nil {
		return nil, err
	}
	if len(y) > maxChartYAML {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml exceeds %d bytes", layout.ErrInvalidArgument, p, maxChartYAML)
	}
	if err := checkYAMLExpansion(y); err != nil {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml: %v", layout.ErrInvalidArgument, p, err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml: %v", layout.ErrInvalidArgument, p, err)
	}
	m := &chartMeta{raw: j, archive: archive}
	if err := json.Unmarshal(j, m); err != nil {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml: %v", layout.ErrInvalidArgument, p, err)
	}
	if m.Name == "" || m.Version == "" || m.APIVersion == "" {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml needs apiVersion, name and version", layout.ErrInvalidArgument, p)
	}
	if !tagSafe(m.Name) {
		return nil, fmt.Errorf("%w: chart %s: name %q is not a plain file name", layout.ErrInvalidArgument, p, m.Name)
	}
	return m, nil
}

// readChartYAML reads a chart directory's Chart.yaml through an os.Root on
// the chart: a regular file inside the chart, or a link to one that stays
// inside; never a file elsewhere (issue 12 class 6), never a FIFO or a
// device.
func readChartYAML(dir string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	defer root.Close()
	f, err := openInputIn(root, "Chart.yaml")
	if err != nil {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml must be a regular file inside the chart: %v", layout.ErrInvalidArgument, dir, err)
	}
	defer f.Close()
	y, err := io.ReadAll(io.LimitReader(f, maxChartYAML+1))
	if err != nil {
		return nil, fmt.Errorf("chart %s: read Chart.yaml: %w", dir, err)
	}
	return y, nil
}

func tagSafe(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

// helmConfig is Chart.yaml as JSON, the config `helm push` writes, with
// the manifest annotations helm adds. A packaged chart is read and checked
// again here, after its layer was stored; if the bytes differ from the
// layer's, the file changed in between and the error wraps ErrChanged, so
// the config always describes the checked bytes that were stored.
func helmConfig(plans []*layerPlan, layers []Layer, o Options) (presetConfig, error) {
	meta, err := readChartMeta(plans[0].path)
	if err != nil {
		return presetConfig{}, err
	}
	if stored := layers[0].Descriptor.Digest; meta.archive != "" && meta.archive != stored {
		return presetConfig{}, fmt.Errorf("chart %s: %w: stored as %s, then read as %s", plans[0].path, ErrChanged, stored, meta.archive)
	}
	ann := map[string]string{
		ocispec.AnnotationTitle:   meta.Name,
		ocispec.AnnotationVersion: meta.Version,
	}
	if meta.Description != "" {
		ann[ocispec.AnnotationDescription] = meta.Description
	}
	return presetConfig{content: meta.raw, mediaType: HelmConfigType, annotations: ann}, nil
}
