package pack

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

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
	presets["helm"] = &preset{
		expand: expandHelmChart,
		config: helmConfig,
	}
}

// expandHelmChart takes one chart: a directory holding Chart.yaml, which
// becomes a gzip tar under the chart's name as `helm package` lays it out,
// or a packaged .tgz, stored as is.
func expandHelmChart(in []Input, o Options) ([]Input, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: the helm preset packs exactly one chart (a directory or a .tgz), got %d inputs", ErrUsage, len(in))
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
	if _, err := os.Stat(filepath.Join(in[0].Path, ".helmignore")); err == nil && o.Warn != nil {
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
}

// readChartMeta reads Chart.yaml from a chart directory or from the top
// directory of a packaged chart (.tgz).
func readChartMeta(p string) (*chartMeta, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", p, err)
	}
	var y []byte
	if fi.IsDir() {
		f, err := openInput(filepath.Join(p, "Chart.yaml"))
		if err != nil {
			return nil, fmt.Errorf("%w: chart %s: %v", ErrUsage, p, err)
		}
		defer f.Close()
		y, err = io.ReadAll(io.LimitReader(f, maxChartYAML+1))
		if err != nil {
			return nil, err
		}
	} else if y, err = chartYAMLFromArchive(p); err != nil {
		return nil, err
	}
	if len(y) > maxChartYAML {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml exceeds %d bytes", ErrUsage, p, maxChartYAML)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml: %v", ErrUsage, p, err)
	}
	m := &chartMeta{raw: j}
	if err := json.Unmarshal(j, m); err != nil {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml: %v", ErrUsage, p, err)
	}
	if m.Name == "" || m.Version == "" || m.APIVersion == "" {
		return nil, fmt.Errorf("%w: chart %s: Chart.yaml needs apiVersion, name and version", ErrUsage, p)
	}
	if !tagSafe(m.Name) {
		return nil, fmt.Errorf("%w: chart %s: name %q is not a plain file name", ErrUsage, p, m.Name)
	}
	return m, nil
}

func tagSafe(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

// chartYAMLFromArchive finds <chart>/Chart.yaml in a packaged chart.
func chartYAMLFromArchive(p string) ([]byte, error) {
	f, err := openInput(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%w: chart %s is neither a directory nor a gzip archive: %v", ErrUsage, p, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: chart %s has no <name>/Chart.yaml", ErrUsage, p)
		}
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", p, err)
		}
		clean := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if h.Typeflag == tar.TypeReg && path.Base(clean) == "Chart.yaml" && strings.Count(clean, "/") == 1 {
			return io.ReadAll(io.LimitReader(tr, maxChartYAML+1))
		}
	}
}

// helmConfig is Chart.yaml as JSON, the config `helm push` writes, with
// the manifest annotations helm adds.
func helmConfig(plans []*layerPlan, layers []Layer, o Options) (presetConfig, error) {
	meta, err := readChartMeta(plans[0].path)
	if err != nil {
		return presetConfig{}, err
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
