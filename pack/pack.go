// Package pack builds OCI artifacts from files and directories into a
// layout: layers (file → blob, directory → reproducible tar → compressor
// → blob), the config and manifest by the image-spec 1.1 artifact
// guidance, presets, Harbor annotations. It parses no CLI flags.
package pack

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Input is one PATH[:MEDIATYPE] argument.
type Input struct {
	Path      string
	MediaType string // "" for the default
	// Title overrides the name recorded in the artifact (presets set it
	// when they walk a directory into files).
	Title string
	// Verbatim stores a file byte for byte even when MediaType names a
	// compressed type (a packaged Helm chart is already a .tgz).
	Verbatim bool
}

// Options shape the artifact. The zero value packs with auto compression
// and one job.
type Options struct {
	ArtifactType string
	// ConfigPath/ConfigMediaType give a config file; empty: the empty
	// descriptor (then ArtifactType is required).
	ConfigPath      string
	ConfigMediaType string
	// Annotations go on the manifest.
	Annotations map[string]string
	// FileAnnotations are annotations in oras's annotation-file shape:
	// "$manifest" and "$config" keys for those descriptors, any other key
	// a layer's title (LoadAnnotationFile reads such a file).
	FileAnnotations map[string]map[string]string
	// Compression is the codec of tar layers: compress.None, Gzip or
	// Zstd, or CompressionAuto (the zero value): directories gzip where a
	// sample of their content says it pays, files raw. Level 0 means the
	// codec's default.
	Compression compress.Algorithm
	Level       int
	Jobs        int
	// MTime is the mtime of every tar entry (zero: the Unix epoch).
	MTime time.Time
	// PreserveMode keeps tar entries' permission bits as on disk; by
	// default they are normalised as git does (TarOptions.PreserveMode),
	// so the digest does not depend on the umask.
	PreserveMode bool
	// Exclude are patterns, in gitignore syntax, of paths left out of
	// every directory input, after those of the directory's IgnoreFile.
	// The manifest records what applied (AnnotationExclude).
	Exclude []string
	// Created, if set, is recorded as org.opencontainers.image.created.
	Created *time.Time
	// Subject makes the artifact a referrer of that manifest (attach): Pack
	// records it in the layout's index as one, so Referrers lists it and gc
	// keeps it.
	Subject *ocispec.Descriptor
	// Tag, if set, tags the artifact under TagConflict once it is stored.
	// The tag is looked at before any input is read: present under
	// ConflictSkip, Pack does nothing and reports the tagged artifact
	// (TagChange.Skipped); present under ConflictFail, Pack refuses with
	// ErrTagExists unless the stat cache vouches for every input (an
	// unchanged re-run ends with the same digest, or the conflict).
	Tag         string
	TagConflict layout.Conflict
	// Icon and SkipList are Harbor's user-defined artifact annotations.
	Icon     string
	SkipList []string
	// Preset fills media types and config for a well-known artifact type
	// (LookupPreset); nil: none.
	Preset   *Preset
	Progress layout.Progress
	// NoCache re-reads every input instead of trusting the stat cache.
	NoCache bool
	// AllowOutside lets the modelpack preset follow symlinks that lead
	// outside the directory being packed.
	AllowOutside bool
	// Warn receives non-fatal notices (excluded paths, name collisions).
	Warn func(string)
	// ImageVolume, if set, also writes the image-volume form of the files
	// (a container image containerd mounts as a Kubernetes volume), from
	// the same read of each file, as a referrer of the artifact. The
	// modelcar preset writes that form alone.
	ImageVolume *ImageVolume
}

// Result describes the packed artifact.
type Result struct {
	Manifest ocispec.Descriptor
	// TagChange is what happened to Options.Tag.
	TagChange   layout.TagChange
	Layers      []Layer
	Reused      int   // blobs (layers, config, manifest) already stored
	ReusedBytes int64 // their bytes
	Written     int   // blobs newly stored
	// Image is the image-volume form, when one was written. With the
	// modelcar preset it is the artifact: Manifest is its index and
	// Layers its file layers.
	Image *ImageResult
}

// Pack builds one artifact from inputs into l and returns its manifest
// descriptor. Once every blob is stored it records the artifact in one
// index update: tagged as o.Tag (if set) and, with o.Subject, as a
// referrer of its subject. A failed pack leaves index.json untouched
// (blobs it stored stay, verified and unreferenced, until gc).
func Pack(ctx context.Context, l *layout.Layout, inputs []Input, o Options) (*Result, error) {
	res, err := build(ctx, l, inputs, o)
	if err != nil {
		return nil, err
	}
	twin := res.Image != nil && !imageOnly(o.Preset)
	if (o.Tag == "" && o.Subject == nil && !twin) || res.TagChange.Skipped {
		return res, nil
	}
	err = l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		if o.Subject != nil {
			if err := e.AddReferrers(res.Manifest); err != nil {
				return err
			}
		}
		if twin {
			if err := tagTwin(e, o, res.Image); err != nil {
				return err
			}
		}
		if o.Tag == "" {
			return nil
		}
		var err error
		res.TagChange, err = e.Tag(o.Tag, res.Manifest, o.TagConflict)
		if res.Image != nil && !twin {
			res.Image.Tag, res.Image.TagChange = o.Tag, res.TagChange
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// build stores the artifact's blobs and manifest; Pack records it.
func build(ctx context.Context, l *layout.Layout, inputs []Input, o Options) (*Result, error) {
	if o.Jobs <= 0 {
		o.Jobs = 1
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	if err := Check(inputs, o); err != nil {
		return nil, err // before a byte is read
	}
	iv := imageVolumeOf(o) // checked by Check
	guard := newLayoutGuard(l.Dir())
	if err := checkInputsOutside(guard, inputs, o); err != nil {
		return nil, err
	}
	ann := o.FileAnnotations
	pre := o.Preset
	excluded, err := excludeAnnotation(inputs, o)
	if err != nil {
		return nil, err
	}
	if pre != nil && pre.expand != nil {
		var err error
		if inputs, err = pre.expand(inputs, o); err != nil {
			return nil, err
		}
	}
	plans, err := planLayers(ctx, inputs, o, pre, guard)
	if err != nil {
		return nil, err
	}
	if iv != nil {
		if err := planTwins(plans, o, iv); err != nil {
			return nil, err
		}
	}
	if o.Icon != "" {
		ip, err := planIcon(o.Icon)
		if err != nil {
			return nil, err
		}
		plans = append(plans, ip)
	}
	if err := checkOverlaps(plans); err != nil {
		return nil, err
	}
	if err := checkDocumentSize("manifest's list of layers", layersLowerBound(plans, ann)); err != nil {
		return nil, err
	}
	var cache *statCache
	if !o.NoCache {
		cache = loadStatCache(l)
	}
	if kept, err := preflightTag(ctx, l, cache, plans, o, iv); kept != nil || err != nil {
		return kept, err
	}
	res := &Result{Layers: make([]Layer, len(plans))}
	if iv != nil {
		res.Image = &ImageResult{Layers: make([]Layer, len(plans))}
	}
	if err := buildLayers(ctx, l, cache, plans, o, res); err != nil {
		return nil, err
	}
	if err := cache.save(l); err != nil {
		o.Warn(err.Error())
	}
	for i := range res.Layers {
		res.Layers[i].Descriptor.Annotations = mergeAnnotations(plans[i].annotations, res.Layers[i].Descriptor.Annotations, ann[plans[i].title])
	}
	if iv != nil {
		finishTwins(plans, res, ann)
	}
	if imageOnly(pre) {
		res.Layers = res.Image.Layers
		if err := buildImage(ctx, l, plans, o, iv, nil, res); err != nil {
			return nil, err
		}
		res.Manifest = res.Image.Index
		return res, nil
	}
	var config ocispec.Descriptor
	var presetAnn map[string]string
	if pre != nil && pre.config != nil && o.ConfigPath == "" {
		pc, err := pre.config(plans, res.Layers, o)
		if err != nil {
			return nil, err
		}
		presetAnn = pc.annotations
		if err := checkDocumentSize("config", int64(len(pc.content))); err != nil {
			return nil, err
		}
		if config, err = putDocument(ctx, l, pc.mediaType, pc.content, res); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	} else if config, err = writeConfig(ctx, l.Blobs(), o, res); err != nil {
		return nil, err
	}
	config.Annotations = mergeAnnotations(config.Annotations, ann["$config"])
	if len(o.SkipList) > 0 {
		config.Annotations = mergeAnnotations(config.Annotations, map[string]string{AnnotationHarborSkipList: joinComma(o.SkipList)})
	}
	spec := ManifestSpec{ArtifactType: o.ArtifactType, Config: &config, Subject: o.Subject}
	if spec.ArtifactType == "" && pre != nil {
		spec.ArtifactType = pre.artifactType
	}
	for _, lay := range res.Layers {
		spec.Layers = append(spec.Layers, lay.Descriptor)
	}
	spec.Annotations = mergeAnnotations(presetAnn, excluded, ann["$manifest"], o.Annotations)
	if o.Created != nil {
		spec.Annotations = mergeAnnotations(spec.Annotations, map[string]string{ocispec.AnnotationCreated: o.Created.UTC().Format(time.RFC3339)})
	}
	if res.Manifest, err = buildManifest(ctx, l, spec, res); err != nil {
		return nil, err
	}
	if iv != nil {
		subject := res.Manifest
		if err := buildImage(ctx, l, plans, o, iv, &subject, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// putManifest encodes m, refuses it over the JSON budget with a hint, and
// stores it through the document door.
func putManifest(ctx context.Context, l *layout.Layout, m ocispec.Manifest, res *Result) (ocispec.Descriptor, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("encode manifest: %w", err)
	}
	if err := checkDocumentSize("manifest", int64(len(b))); err != nil {
		return ocispec.Descriptor{}, err
	}
	return putDocument(ctx, l, ocispec.MediaTypeImageManifest, b, res)
}

// buildLayers runs the plans, o.Jobs at a time reading and hashing;
// compressed layers share the jobs as encoder concurrency. A layer gives
// its slot back once its bytes are staged, so while its commit waits for
// the disk (fsync) the next layer is already hashing: up to 2 × o.Jobs
// layers are in flight, at most o.Jobs of them using a CPU.
func buildLayers(ctx context.Context, l *layout.Layout, cache *statCache, plans []*layerPlan, o Options, res *Result) error {
	compressed := 0
	for _, p := range plans {
		if p.alg != compress.None {
			compressed++
		}
	}
	conc := o.Jobs
	if compressed > 1 {
		conc = max(1, o.Jobs/min(compressed, o.Jobs))
	}
	var total int64
	for _, p := range plans {
		total += p.size
	}
	o.Progress.Total(total)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2 * o.Jobs)
	cpu := make(chan struct{}, o.Jobs)
	for i, p := range plans {
		g.Go(func() error {
			select {
			case cpu <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			var once sync.Once
			release := func() { once.Do(func() { <-cpu }) }
			defer release()
			tr := o.Progress.Start(p.title, p.size)
			var lay, twin Layer
			var err error
			if p.twin != nil {
				lay, twin, err = p.buildTwin(gctx, l, cache, tr)
			} else {
				lay, err = p.build(gctx, l, cache, compress.Options{Level: p.level, Concurrency: conc}, tr, release)
			}
			tr.Done(err)
			if err != nil {
				return fmt.Errorf("layer %d (%s): %w", i, p.title, err)
			}
			mu.Lock()
			res.Layers[i] = lay
			if p.twin == nil || p.rawStored {
				countBlob(res, lay.Reused, lay.Descriptor.Size)
			}
			if p.twin != nil {
				res.Image.Layers[i] = twin
				countBlob(res, twin.Reused, twin.Descriptor.Size)
			}
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

func countBlob(res *Result, reused bool, size int64) {
	if reused {
		res.Reused++
		res.ReusedBytes += size
	} else {
		res.Written++
	}
}

func emptyDescriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeEmptyJSON, Digest: ocispec.DescriptorEmptyJSON.Digest, Size: ocispec.DescriptorEmptyJSON.Size}
}

// putDocument stores a JSON document through the layout's document door
// (which applies every reader's checks) and counts it in res.
func putDocument(ctx context.Context, l *layout.Layout, mediaType string, b []byte, res *Result) (ocispec.Descriptor, error) {
	existed, err := l.Blobs().Has(ctx, ocispec.Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := l.PutDocument(ctx, mediaType, b)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	countBlob(res, existed, desc.Size)
	return desc, nil
}

// writeConfig stores the config file, or the empty descriptor, and counts
// it in res.
func writeConfig(ctx context.Context, s *cas.Store, o Options, res *Result) (ocispec.Descriptor, error) {
	if o.ConfigPath == "" {
		r, err := s.Put(ctx, bytesReader("{}"), emptyDescriptor())
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		countBlob(res, r.Reused, r.Descriptor.Size)
		return emptyDescriptor(), nil
	}
	mt := o.ConfigMediaType
	if mt == "" {
		mt = DefaultConfigMediaType
	}
	f, err := openInput(o.ConfigPath)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	if err := checkConfigSize(f, o.ConfigPath, mt); err != nil {
		return ocispec.Descriptor{}, err
	}
	r, err := s.Put(ctx, f, ocispec.Descriptor{MediaType: mt})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("config %s: %w", o.ConfigPath, err)
	}
	countBlob(res, r.Reused, r.Descriptor.Size)
	if isJSONMediaType(mt) {
		// It may have grown while read; the stored blob stays unreferenced.
		if err := checkDocumentSize("config "+o.ConfigPath, r.Descriptor.Size); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	return r.Descriptor, nil
}

// DefaultConfigMediaType is what oras uses for a config of unknown type.
const DefaultConfigMediaType = "application/vnd.unknown.config.v1+json"
