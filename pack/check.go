package pack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Check makes the checks on Pack's arguments that need no layout: the
// tag's grammar, every media type, a required artifactType, exclude
// patterns. A caller about to create a layout calls it first, so that bad
// arguments create nothing; Pack makes them again.
func Check(inputs []Input, o Options) error {
	if o.Tag != "" {
		if err := layout.CheckUserTag(o.Tag); err != nil {
			return err
		}
	}
	if err := checkMediaTypes(inputs, o); err != nil {
		return err
	}
	if err := checkNotDocument("config media type", o.ConfigMediaType); err != nil {
		return err
	}
	if err := checkImageVolume(o, imageVolumeOf(o)); err != nil {
		return err
	}
	pre := o.Preset
	emptyConfig := o.ConfigPath == "" && (pre == nil || pre.config == nil)
	if emptyConfig && o.ArtifactType == "" && (pre == nil || pre.artifactType == "") && !imageOnly(pre) {
		return ErrArtifactTypeRequired
	}
	_, err := newIgnorer(o.Exclude)
	return err
}

// preflightTag decides, from index.json and before any input byte is
// hashed, what the state of Options.Tag (and of the image-volume twin's
// tag, when Pack writes both forms) means:
//
//   - absent, or ConflictOverwrite: pack;
//   - present under ConflictSkip: nothing to do; the returned result
//     names the tagged artifact with TagChange.Skipped (with a twin, the
//     tags are kept one by one when they are set);
//   - present under ConflictFail: pack only if the stat cache vouches for
//     every input (a re-run of the same command on unchanged files, which
//     reads no input and ends with the same digest, or with ErrTagExists
//     at the tag); otherwise ErrTagUnproven now, with nothing read.
//
// The tags are checked again under the index lock when they are set.
func preflightTag(ctx context.Context, l *layout.Layout, cache *statCache, plans []*layerPlan, o Options, iv *ImageVolume) (*Result, error) {
	if o.Tag == "" || o.TagConflict == layout.ConflictOverwrite {
		return nil, nil
	}
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	tags := []string{o.Tag}
	twin := iv != nil && !imageOnly(o.Preset)
	if t := imageTag(o); twin && t != "" {
		tags = append(tags, t)
	}
	var old ocispec.Descriptor
	var name string
	for _, t := range tags {
		if d, ok := layout.FindTag(idx, t); ok {
			old, name = d, t
			break
		}
	}
	if name == "" || (twin && o.TagConflict == layout.ConflictSkip) {
		return nil, nil
	}
	if o.TagConflict == layout.ConflictSkip {
		kept := ocispec.Descriptor{MediaType: old.MediaType, Digest: old.Digest, Size: old.Size, ArtifactType: old.ArtifactType}
		return &Result{Manifest: kept, TagChange: layout.TagChange{Name: o.Tag, Old: old.Digest, New: old.Digest, Skipped: true}}, nil
	}
	var unproven []string
	for _, p := range plans {
		if _, hit := cache.lookup(ctx, l, p.cacheKey(cache), p.mediaType, p.alg != compress.None); !hit {
			unproven = append(unproven, p.title)
		}
	}
	if len(unproven) == 0 {
		return nil, nil
	}
	why := "the stat cache is off"
	if cache != nil {
		why = fmt.Sprintf("%s %s not known unchanged since a pack recorded %s", listSome(unproven, 3), plural(len(unproven), "is", "are"), plural(len(unproven), "it", "them"))
	}
	return nil, fmt.Errorf("tag %q exists in layout with %s, and %s, so the result may differ: %w", name, old.Digest, why, ErrTagUnproven)
}

// ErrTagUnproven: Options.Tag exists under ConflictFail and the stat cache
// cannot vouch that the inputs are unchanged, so Pack refused before
// reading any (it wraps layout.ErrTagExists: conflict class).
var ErrTagUnproven = fmt.Errorf("%w; not packing (no input was read)", layout.ErrTagExists)

// AnnotationExclude, on a manifest, records the exclude patterns its
// directory inputs were packed with: a JSON object from each directory's
// name in the artifact to its patterns (its IgnoreFile's, then
// Options.Exclude). Absent when none applied.
const AnnotationExclude = "io.github.oci-pack.exclude"

// excludeAnnotation returns the AnnotationExclude annotation for inputs,
// or nil.
func excludeAnnotation(inputs []Input, o Options) (map[string]string, error) {
	applied := map[string][]string{}
	for _, in := range inputs {
		if fi, err := os.Stat(in.Path); err != nil || !fi.IsDir() {
			continue // planning reports a missing input
		}
		ig, err := loadIgnorer(in.Path, o.Exclude)
		if err != nil {
			return nil, err
		}
		if len(ig.patterns) == 0 {
			continue
		}
		title, err := titleOf(in)
		if err != nil {
			return nil, err
		}
		applied[title] = ig.patterns
	}
	if len(applied) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(applied) // map keys sorted: reproducible
	if err != nil {
		return nil, err
	}
	return map[string]string{AnnotationExclude: string(b)}, nil
}

// listSome is up to n items, then how many more.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
