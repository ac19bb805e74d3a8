package pack

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack/modelcar"
)

// layerPlan is everything decided about a layer before any byte is read.
type layerPlan struct {
	title       string
	path        string
	info        os.FileInfo // stat at planning time: the stat cache key
	isDir       bool
	tarred      bool // stored as a tar (directories, compressed files)
	wantDiffID  bool // the uncompressed digest is needed (oras annotation, preset config)
	mediaType   string
	alg         compress.Algorithm
	level       int
	entries     []entry
	size        int64 // bytes to read, for progress
	annotations map[string]string
	tarOpts     TarOptions
	// twin, if set, is the file's image-volume tar layer, written from the
	// same read (buildTwin); rawStored says the raw layer is stored too.
	twin      *modelcar.FileTar
	rawStored bool
}

// build writes the layer, or finds it in the stat cache without reading
// the input. release, if not nil, is called once the layer's bytes are
// read and staged, before its commit waits on the disk (see buildLayers).
func (p *layerPlan) build(ctx context.Context, l *layout.Layout, cache *statCache, co compress.Options, tr layout.ProgressItem, release func()) (Layer, error) {
	key := p.cacheKey(cache)
	if lay, ok := cache.lookup(ctx, l, key, p.mediaType, p.alg != compress.None); ok {
		tr.Add(p.size)
		return p.annotate(lay), nil
	}
	var lay Layer
	var err error
	if p.tarred {
		lay, err = writeTarLayer(ctx, l.Blobs(), p.entries, p.tarOpts, p.mediaType, p.alg, co, p.wantDiffID, tr, release)
	} else {
		lay, err = writeRawFile(ctx, l.Blobs(), p.path, p.mediaType, tr, release)
	}
	if err != nil {
		return Layer{}, err
	}
	cache.store(key, lay)
	return p.annotate(lay), nil
}

func (p *layerPlan) cacheKey(c *statCache) string {
	switch {
	case c == nil:
		return ""
	case p.tarred:
		return c.dirKey(p)
	case p.info != nil:
		return c.fileKey(p.info)
	}
	return ""
}

// annotate adds what the layer's readers need beyond its plan's
// annotations.
func (p *layerPlan) annotate(lay Layer) Layer {
	if p.tarred && p.alg == compress.Gzip {
		// oras unpacks a layer on pull only from gzip; give it what it reads.
		lay.Descriptor.Annotations = map[string]string{
			layout.AnnotationUnpack: "true",
			layout.AnnotationDigest: lay.DiffID.String(),
		}
	}
	return lay
}

// planLayers stats every input, names it, and decides its media type and
// compression. Nothing is written; every problem with the inputs (missing,
// unsupported type, unreadable directory, colliding titles, a manifest or
// index media type, an input inside the output layout) is found here,
// before the first blob. guard names the output layout, which a directory
// walk leaves out.
func planLayers(ctx context.Context, inputs []Input, o Options, pre *Preset, guard *layoutGuard) ([]*layerPlan, error) {
	alg, err := checkCompression(o.Compression)
	if err != nil {
		return nil, err
	}
	excl := guard.layout
	titles := map[string]string{}
	folded := map[string]string{}
	var plans []*layerPlan
	for _, in := range inputs {
		if err := guard.check("input", in.Path); err != nil {
			return nil, err
		}
		fi, err := os.Stat(in.Path)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in.Path, err)
		}
		p := &layerPlan{path: in.Path, isDir: fi.IsDir(), mediaType: in.MediaType, info: fi}
		if p.title, err = titleOf(in); err != nil {
			return nil, err
		}
		if prev, dup := titles[p.title]; dup {
			return nil, fmt.Errorf("%w: inputs %s and %s would both be named %q in the artifact", layout.ErrInvalidArgument, prev, in.Path, p.title)
		}
		titles[p.title] = in.Path
		if prev, dup := folded[foldName(p.title)]; dup {
			o.Warn(fmt.Sprintf("%q and %q differ only in case or Unicode normalisation: they collide on case-insensitive or normalising file systems (exFAT, APFS, NTFS)", prev, p.title))
		}
		folded[foldName(p.title)] = p.title
		p.annotations = map[string]string{"org.opencontainers.image.title": p.title}
		if pre != nil && pre.annotate != nil {
			p.annotations = mergeAnnotations(p.annotations, pre.annotate(p.title))
		}
		p.tarOpts = TarOptions{MTime: o.MTime, PreserveMode: o.PreserveMode, Exclude: excl, OnExclude: func(rel string) {
			o.Warn(fmt.Sprintf("leaving out %s: it is the output layout", rel))
		}}
		switch {
		case fi.IsDir():
			if p.tarOpts.ignore, err = loadIgnorer(in.Path, o.Exclude); err == nil {
				err = planDir(ctx, p, alg, o)
			}
		case fi.Mode().IsRegular():
			err = planFile(p, in, fi, alg, o, pre)
		default:
			err = fmt.Errorf("unsupported file type %s: %s", fsx.FileKind(fi.Mode()), in.Path)
		}
		if err != nil {
			return nil, err
		}
		if err := checkNotDocument("media type of "+in.Path, p.mediaType); err != nil {
			return nil, err
		}
		p.wantDiffID = p.alg == compress.Gzip || pre != nil
		plans = append(plans, p)
	}
	return plans, nil
}

// CompressionAuto lets Pack choose: directories compressed where a sample
// says it pays, files raw. The zero Algorithm means it too.
const CompressionAuto compress.Algorithm = "auto"

const autoCompression = CompressionAuto

// checkCompression normalises Options.Compression and refuses an unknown
// codec.
func checkCompression(a compress.Algorithm) (compress.Algorithm, error) {
	switch a {
	case "", CompressionAuto:
		return CompressionAuto, nil
	case compress.None, compress.Gzip, compress.Zstd:
		return a, nil
	}
	return "", fmt.Errorf("%w: unknown compression %q (want none, gzip or zstd, or auto)", layout.ErrInvalidArgument, a)
}

func planDir(ctx context.Context, p *layerPlan, alg compress.Algorithm, o Options) error {
	entries, err := dirEntries(ctx, p.path, p.title, p.tarOpts)
	if err != nil {
		return err
	}
	folded := map[string]string{}
	for _, e := range entries {
		if !utf8.ValidString(e.name) {
			return fmt.Errorf("%w: file name %q is not valid UTF-8; it cannot be recorded faithfully (rename it)", layout.ErrInvalidArgument, e.path)
		}
		if prev, dup := folded[foldName(e.name)]; dup {
			o.Warn(fmt.Sprintf("%q and %q differ only in case or Unicode normalisation: they collide on case-insensitive or normalising file systems", prev, e.name))
		}
		folded[foldName(e.name)] = e.name
		if e.info.Mode().IsRegular() {
			p.size += e.info.Size()
		}
	}
	p.entries = entries
	p.tarred = true
	warnLinksOutside(p, o.Warn)
	base, fromType := compress.FromMediaType(p.mediaType)
	switch {
	case p.mediaType != "" && fromType != compress.None:
		p.alg = fromType
	case p.mediaType != "":
		p.alg = compress.None // the user named an uncompressed type
	case alg == autoCompression:
		p.alg = compress.Gzip
	default:
		p.alg = alg
	}
	p.level = o.Level
	if alg == autoCompression && o.Level == 0 && p.alg == compress.Gzip {
		samples, err := sampleEntries(entries)
		if err != nil {
			return err
		}
		p.level = compress.ChooseGzipLevel(samples)
	}
	if err := p.alg.CheckLevel(o.Level); err != nil {
		return fmt.Errorf("%w: %v", layout.ErrInvalidArgument, err)
	}
	if base == "" {
		base = MediaTypeTar
	}
	p.mediaType = base + p.alg.MediaSuffix()
	return nil
}

func planFile(p *layerPlan, in Input, fi os.FileInfo, alg compress.Algorithm, o Options, pre *Preset) error {
	p.size = fi.Size()
	if in.Verbatim {
		p.alg = compress.None
		return nil
	}
	presetType := ""
	if p.mediaType == "" && pre != nil && pre.mediaType != nil {
		presetType = pre.mediaType(p.title)
	}
	_, fromType := compress.FromMediaType(p.mediaType)
	switch {
	case fromType != compress.None:
		p.alg = fromType
	case p.mediaType == "" && (alg == compress.Gzip || alg == compress.Zstd):
		p.alg = alg
		p.mediaType = MediaTypeTar + alg.MediaSuffix()
		if strings.HasSuffix(presetType, ".raw") {
			// ModelPack: "…weight.v1.raw" stored compressed is "…weight.v1.tar+zstd".
			p.mediaType = strings.TrimSuffix(presetType, ".raw") + ".tar" + alg.MediaSuffix()
		}
	default:
		p.alg = compress.None
		if p.mediaType == "" {
			p.mediaType = presetType
		}
	}
	if p.mediaType == "" {
		p.mediaType = MediaTypeRawFile
	}
	if p.alg == compress.None {
		return nil
	}
	if err := p.alg.CheckLevel(o.Level); err != nil {
		return fmt.Errorf("%w: %v", layout.ErrInvalidArgument, err)
	}
	p.level = o.Level
	p.tarred = true
	var err error
	p.entries, err = singleFileEntries(p.path, p.title)
	return err
}

// titleOf names an input in the artifact: the path as given, cleaned and
// slash-separated when it is local; otherwise (absolute, "..", ".") its
// base name. Names must be valid UTF-8, which JSON can carry faithfully.
func titleOf(in Input) (string, error) {
	name := in.Title
	if name == "" {
		clean := path.Clean(filepath.ToSlash(in.Path))
		switch {
		case clean != "." && filepath.IsLocal(filepath.FromSlash(clean)):
			name = clean
		default:
			abs, err := filepath.Abs(in.Path)
			if err != nil {
				return "", err
			}
			name = filepath.Base(abs)
		}
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: file name %q is not valid UTF-8; it cannot be recorded faithfully (rename it)", layout.ErrInvalidArgument, in.Path)
	}
	if name == "/" || name == "." || name == ".." || name == "" {
		return "", fmt.Errorf("%w: cannot name input %q in the artifact", layout.ErrInvalidArgument, in.Path)
	}
	return name, nil
}

// foldName is the key under which names collide on case-insensitive or
// normalising file systems: NFC form (APFS and macOS tools treat "é" and
// "e\u0301" as one name), lower-cased.
func foldName(name string) string { return strings.ToLower(norm.NFC.String(name)) }

// checkNotDocument refuses a layer or config media type that names a
// manifest or an index (OCI or Docker): every graph walk — verify, gc,
// export, copy, extract — would parse that blob as one and fail on the
// whole layout. The error wraps layout.ErrInvalidArgument and names what carried the type.
func checkNotDocument(what, mediaType string) error {
	if !layout.IsManifest(mediaType) && !layout.IsIndex(mediaType) {
		return nil
	}
	return fmt.Errorf("%w: %s is %q, a manifest or index media type; expected a blob type such as %s: readers would parse the blob as a manifest", layout.ErrInvalidArgument, what, mediaType, MediaTypeRawFile)
}

// Kinds of path a layer puts in the artifact, as extract names them.
const (
	outputDir     = "directory"
	outputFile    = "file"
	outputSymlink = "symlink"
)

// pathClaim is what one layer puts at one path when extracted.
type pathClaim struct {
	kind  string
	layer int // index into the plans
}

// checkOverlaps refuses layers that extract would write over each other,
// by extract's own rule (it refuses such an artifact with exit 3,
// "collides with layer N"): a path may be a directory in many layers, but
// a file or symlink in only one, and nothing may lie below a path that a
// layer stores as a file or symlink — say a file input "d/x.txt" beside a
// directory input "d" holding x.txt, or directory inputs "d" and "d/sub".
// The error wraps layout.ErrInvalidArgument and names both inputs and the path.
func checkOverlaps(plans []*layerPlan) error {
	seen := map[string]pathClaim{}
	for i, p := range plans {
		err := p.eachOutput(func(name, kind string) error {
			return claimPath(seen, plans, name, pathClaim{kind: kind, layer: i})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachOutput calls fn with every path (cleaned, slash-separated) and its
// kind that the layer puts in the artifact: a directory layer's entries,
// else its title as a file.
func (p *layerPlan) eachOutput(fn func(name, kind string) error) error {
	if !p.isDir {
		return fn(path.Clean(p.title), outputFile)
	}
	for _, e := range p.entries {
		kind := outputFile
		switch m := e.info.Mode(); {
		case m.IsDir():
			kind = outputDir
		case m&os.ModeSymlink != 0:
			kind = outputSymlink
		}
		if err := fn(path.Clean(e.name), kind); err != nil {
			return err
		}
	}
	return nil
}

// claimPath records c at name in seen, with name's parents as
// directories, and refuses what checkOverlaps refuses.
func claimPath(seen map[string]pathClaim, plans []*layerPlan, name string, c pathClaim) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		parent := name[:i]
		prev, ok := seen[parent]
		if !ok {
			seen[parent] = pathClaim{kind: outputDir, layer: c.layer}
			continue
		}
		if prev.kind != outputDir {
			return fmt.Errorf("%w: input %s puts %q below %q, which input %s stores as a %s; extract would refuse the artifact (give the inputs names that do not overlap)",
				layout.ErrInvalidArgument, plans[c.layer].path, name, parent, plans[prev.layer].path, prev.kind)
		}
	}
	prev, ok := seen[name]
	switch {
	case !ok:
		seen[name] = c
	case prev.kind != outputDir || c.kind != outputDir:
		return fmt.Errorf("%w: inputs %s and %s both put %q in the artifact (a %s and a %s); extract would refuse the artifact (give them distinct names, or pack the directory alone)",
			layout.ErrInvalidArgument, plans[prev.layer].path, plans[c.layer].path, name, prev.kind, c.kind)
	}
	return nil
}
