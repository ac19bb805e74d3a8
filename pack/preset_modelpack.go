package pack

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// CNCF ModelPack (modelpack/model-spec) media types and annotations.
const (
	ModelPackArtifactType   = "application/vnd.cncf.model.manifest.v1+json"
	ModelPackConfigType     = "application/vnd.cncf.model.config.v1+json"
	ModelPackWeight         = "application/vnd.cncf.model.weight.v1.raw"
	ModelPackWeightConfig   = "application/vnd.cncf.model.weight.config.v1.raw"
	ModelPackDoc            = "application/vnd.cncf.model.doc.v1.raw"
	ModelPackCode           = "application/vnd.cncf.model.code.v1.raw"
	ModelPackDataset        = "application/vnd.cncf.model.dataset.v1.raw"
	AnnotationModelFilepath = "org.cncf.model.filepath"
)

// modelPackRule classifies a file by a path.Match pattern on its
// lower-cased base name. Rules are tried in order; the first match wins.
type modelPackRule struct {
	pattern   string
	mediaType string
	format    string // the config's "format" when a weight matches
}

// modelPackRules is data, not code: add a pattern here to classify a new
// kind of file. Weight configs come before docs so "merges.txt" and
// "tokenizer.model" are not taken for a doc or a weight.
var modelPackRules = []modelPackRule{
	{"config.json", ModelPackWeightConfig, ""},
	{"generation_config.json", ModelPackWeightConfig, ""},
	{"preprocessor_config.json", ModelPackWeightConfig, ""},
	{"tokenizer*", ModelPackWeightConfig, ""},
	{"special_tokens_map.json", ModelPackWeightConfig, ""},
	{"added_tokens.json", ModelPackWeightConfig, ""},
	{"vocab*", ModelPackWeightConfig, ""},
	{"merges.txt", ModelPackWeightConfig, ""},
	{"chat_template*", ModelPackWeightConfig, ""},
	{"*.tiktoken", ModelPackWeightConfig, ""},
	{"*.index.json", ModelPackWeightConfig, ""},
	{"*.safetensors", ModelPackWeight, "safetensors"},
	{"*.gguf", ModelPackWeight, "gguf"},
	{"*.bin", ModelPackWeight, "pytorch"},
	{"*.pt", ModelPackWeight, "pytorch"},
	{"*.pth", ModelPackWeight, "pytorch"},
	{"*.ckpt", ModelPackWeight, "pytorch"},
	{"*.onnx", ModelPackWeight, "onnx"},
	{"*.onnx_data", ModelPackWeight, "onnx"},
	{"*.h5", ModelPackWeight, "tensorflow"},
	{"*.pb", ModelPackWeight, "tensorflow"},
	{"*.tflite", ModelPackWeight, "tflite"},
	{"*.msgpack", ModelPackWeight, "flax"},
	{"*.mlmodel", ModelPackWeight, "coreml"},
	{"*.nemo", ModelPackWeight, "nemo"},
	{"*.model", ModelPackWeight, ""},
	{"readme*", ModelPackDoc, ""},
	{"license*", ModelPackDoc, ""},
	{"licence*", ModelPackDoc, ""},
	{"notice*", ModelPackDoc, ""},
	{"use_policy*", ModelPackDoc, ""},
	{"*.md", ModelPackDoc, ""},
	{"*.txt", ModelPackDoc, ""},
	{"*.pdf", ModelPackDoc, ""},
	{"*.py", ModelPackCode, ""},
	{"*.ipynb", ModelPackCode, ""},
	{"*.sh", ModelPackCode, ""},
	{"*.js", ModelPackCode, ""},
	{"*.go", ModelPackCode, ""},
	{"*.rs", ModelPackCode, ""},
	{"*.c", ModelPackCode, ""},
	{"*.cc", ModelPackCode, ""},
	{"*.cpp", ModelPackCode, ""},
	{"*.h", ModelPackCode, ""},
	{"*.cu", ModelPackCode, ""},
	{"*.java", ModelPackCode, ""},
	{"*.parquet", ModelPackDataset, ""},
	{"*.arrow", ModelPackDataset, ""},
	{"*.csv", ModelPackDataset, ""},
	{"*.jsonl", ModelPackDataset, ""},
	{"*.json", ModelPackWeightConfig, ""},
	{"*.yaml", ModelPackWeightConfig, ""},
	{"*.yml", ModelPackWeightConfig, ""},
	{"*.toml", ModelPackWeightConfig, ""},
}

// modelPackDefault is the media type of a file no rule matches.
const modelPackDefault = ModelPackDoc

func classifyModelFile(title string) modelPackRule {
	base := strings.ToLower(path.Base(title))
	for _, r := range modelPackRules {
		if ok, _ := path.Match(r.pattern, base); ok {
			return r
		}
	}
	return modelPackRule{mediaType: modelPackDefault}
}

func init() {
	presets["modelpack"] = &Preset{
		Name:         "modelpack",
		artifactType: ModelPackArtifactType,
		expand:       expandModelDirs,
		mediaType:    func(title string) string { return classifyModelFile(title).mediaType },
		annotate:     func(title string) map[string]string { return map[string]string{AnnotationModelFilepath: title} },
		config:       modelPackConfig,
	}
}

// expandModelDirs walks each directory argument into its files, one layer
// per file, named by their path relative to that directory; .git
// directories are skipped. Symlinks to regular files are followed when
// their target stays inside the directory — or, for a Hugging Face cache
// snapshot (hfRepo: the real shape models--[ORG--]NAME/{blobs,refs,
// snapshots/<40-hex revision>}), inside that repository's blobs/, where
// its snapshot files all link. A link leading anywhere else is refused
// unless Options.AllowOutside (RELIABILITY C-32, issue 12 class 6): a tree
// from elsewhere must not smuggle host files into an artifact. A link's
// input is its resolved target, so the file opened later is the one
// checked, reached through real directories only.
func expandModelDirs(in []Input, o Options) ([]Input, error) {
	var out []Input
	for _, i := range in {
		fi, err := os.Stat(i.Path)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", i.Path, err)
		}
		if !fi.IsDir() {
			out = append(out, i)
			continue
		}
		roots, err := linkRoots(i.Path)
		if err != nil {
			return nil, err
		}
		ig, err := loadIgnorer(i.Path, o.Exclude)
		if err != nil {
			return nil, err
		}
		var files []Input
		err = filepath.WalkDir(i.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			rel, err := filepath.Rel(i.Path, p)
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" || ig.ignored(filepath.ToSlash(rel), true) {
					return fs.SkipDir
				}
				return nil
			}
			if ig.ignored(filepath.ToSlash(rel), false) {
				return nil
			}
			target, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("input %s: %w", p, err)
			}
			if !target.Mode().IsRegular() {
				return fmt.Errorf("%w: %s is a %s; the modelpack preset packs regular files (and symlinks to them)", layout.ErrInvalidArgument, p, fsx.FileKind(target.Mode()))
			}
			src := p
			if d.Type()&fs.ModeSymlink != 0 && !o.AllowOutside {
				if src, err = checkLinkInside(p, roots); err != nil {
					return err
				}
			}
			files = append(files, Input{Path: src, Title: filepath.ToSlash(rel), MediaType: i.MediaType})
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(files, func(a, b int) bool { return files[a].Title < files[b].Title })
		out = append(out, files...)
	}
	return out, nil
}

// linkRoots are the directories a symlink under dir may lead into: dir
// itself (resolved), and the blobs/ of the Hugging Face cache repository
// dir is a snapshot of (hfRepo).
func linkRoots(dir string) ([]string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", dir, err)
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, err
	}
	roots := []string{real}
	if repo := hfRepo(real); repo != "" {
		roots = append(roots, filepath.Join(repo, "blobs"))
	}
	return roots, nil
}

// hfRevision is a snapshot directory's name: a 40-hex git revision.
var hfRevision = regexp.MustCompile(`^[0-9a-f]{40}$`)

// hfRepoName is a cache repository's name: models--NAME or
// models--ORG--NAME, each part non-empty.
var hfRepoName = regexp.MustCompile(`^models--[^/-][^/]*?(--[^/-][^/]*)?$`)

// hfRepo returns the Hugging Face cache repository whose snapshot real
// (a resolved absolute path) is, or "" if real is not one: real must be
// <repo>/snapshots/<40-hex revision>, <repo> named models--[ORG--]NAME
// and holding blobs/ and refs/ as real directories. Any other directory
// named snapshots, whatever lies beside it, is no cache.
func hfRepo(real string) string {
	snapshots := filepath.Dir(real)
	repo := filepath.Dir(snapshots)
	if !hfRevision.MatchString(filepath.Base(real)) || filepath.Base(snapshots) != "snapshots" || !hfRepoName.MatchString(filepath.Base(repo)) {
		return ""
	}
	for _, sub := range []string{"blobs", "refs", "snapshots"} {
		if fi, err := os.Lstat(filepath.Join(repo, sub)); err != nil || !fi.IsDir() {
			return ""
		}
	}
	return repo
}

// checkLinkInside resolves the symlink p and returns its final target if
// that lies inside one of roots; otherwise it refuses p.
func checkLinkInside(p string, roots []string) (string, error) {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("input %s: %w", p, err)
	}
	if target, err = filepath.Abs(target); err != nil {
		return "", err
	}
	for _, r := range roots {
		if rel, err := filepath.Rel(r, target); err == nil && filepath.IsLocal(rel) {
			return target, nil
		}
	}
	where := roots[0]
	if len(roots) > 1 {
		where += " or " + roots[1]
	}
	return "", fmt.Errorf("%w: %s is a symlink to %s, outside %s", ErrLinkOutside, p, target, where)
}

// ErrLinkOutside: the modelpack preset met a symlink leading outside the
// directory it packs (and outside a Hugging Face repository's blobs), and
// Options.AllowOutside was not given. It wraps layout.ErrInvalidArgument.
var ErrLinkOutside = fmt.Errorf("%w: symlink leads outside the packed directory", layout.ErrInvalidArgument)

// modelPackConfigDoc is the application/vnd.cncf.model.config.v1+json
// document, with the fields oci-pack can know.
type modelPackConfigDoc struct {
	Descriptor struct {
		CreatedAt *time.Time `json:"createdAt,omitempty"`
	} `json:"descriptor"`
	Config struct {
		Format string `json:"format,omitempty"`
	} `json:"config"`
	ModelFS struct {
		Type    string          `json:"type"`
		DiffIDs []digest.Digest `json:"diff_ids"`
	} `json:"modelfs"`
}

func modelPackConfig(plans []*layerPlan, layers []Layer, o Options) (presetConfig, error) {
	var doc modelPackConfigDoc
	doc.Descriptor.CreatedAt = o.Created
	doc.ModelFS.Type = "layers"
	doc.ModelFS.DiffIDs = []digest.Digest{}
	formats := map[string]bool{}
	for i, l := range layers {
		doc.ModelFS.DiffIDs = append(doc.ModelFS.DiffIDs, l.DiffID)
		if f := classifyModelFile(plans[i].title).format; f != "" {
			formats[f] = true
		}
	}
	if len(formats) == 1 {
		for f := range formats {
			doc.Config.Format = f
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return presetConfig{}, err
	}
	return presetConfig{content: b, mediaType: ModelPackConfigType}, nil
}
