package main

import (
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "pack",
		args:  "LAYOUT:TAG [PATH[:MEDIATYPE]...]",
		short: "build one artifact from files and directories; prints the manifest digest",
		long: `oci-pack pack models:llama-3-8b ./Llama-3-8B --preset modelpack
oci-pack pack L:v1 config.json model.safetensors tokenizer/ --artifact-type application/vnd.acme.model.v1
oci-pack pack L:v1 weights.bin:application/vnd.acme.weights.v1 --artifact-type application/vnd.acme.model.v1
oci-pack pack L:docs ./docs --compression zstd --artifact-type application/vnd.acme.docs.v1
oci-pack pack L:chart ./mychart --preset helm
oci-pack pack models:llama ./Llama-3-8B --preset modelcar            # an image Kubernetes mounts as a volume (/models)
oci-pack pack models:llama ./Llama-3-8B --preset modelpack --image-volume   # both: llama (ModelPack) and llama-image
oci-pack pack L:v1 ./model --exclude '*.tmp' --exclude .cache/ --artifact-type application/vnd.acme.model.v1
oci-pack pack L:v2 model/ --artifact-type application/vnd.acme.model.v1 --tag-conflict overwrite   # move an existing tag
A directory's .ocipackignore (gitignore syntax) leaves paths out, as --exclude does.
Tar layers store permissions as git does (0644, or 0755 for directories and executables) unless --preserve-mode.`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			var pf packFlags
			pf.apply(fs)
			var imf imageFlags
			imf.apply(fs)
			var cf conflictFlags
			cf.apply(fs)
			return func(e *env, args []string) error {
				ref, err := parseArtifact(args[0], writeRef, true)
				if err != nil {
					return err
				}
				o, err := pf.options(e)
				if err != nil {
					return err
				}
				if o.TagConflict, err = cf.resolve(e); err != nil {
					return err
				}
				iv, closeBase, err := imf.volume(e, fs, o.Preset)
				if err != nil {
					return err
				}
				defer closeBase()
				o.ImageVolume = iv
				in, err := inputs(args[1:])
				if err != nil {
					return err
				}
				return runPack(e, ref, in, o)
			}
		},
	})
}

// runPack packs into ref's layout, tags the result and reports it. The
// arguments are checked before the layout is opened or created.
func runPack(e *env, ref layout.Ref, in []pack.Input, o pack.Options) (err error) {
	o.Tag = ref.Tag
	if err := pack.Check(in, o); err != nil {
		return err
	}
	l, finish, err := e.openTarget(ref.Layout)
	if err != nil {
		return err
	}
	defer func() { finish(err) }()
	prog, wait := e.progress()
	o.Progress = prog
	res, err := pack.Pack(e.ctx, l, in, o)
	wait()
	if err != nil {
		return err
	}
	switch ch := res.TagChange; {
	case ch.Skipped:
		e.infof("kept tag %s at %s (--tag-conflict skip); nothing packed", ref.Tag, ch.Old)
	case ch.Old != "" && ch.Old != ch.New:
		e.infof("moved tag %s from %s", ref.Tag, ch.Old)
		fallthrough
	default:
		e.infof("packed %s: %d layer(s), %d blob(s) written, %d reused (%s)", ref, len(res.Layers), res.Written, res.Reused, humanBytes(res.ReusedBytes))
	}
	if img := res.Image; img != nil && img.Index.Digest != res.Manifest.Digest {
		if ch := img.TagChange; ch.Old != "" && ch.Old != ch.New {
			e.infof("moved tag %s from %s", img.Tag, ch.Old)
		}
		e.infof("image-volume form %s:%s: %s (%s)", ref.Layout, img.Tag, img.Index.Digest, platformList(img.Manifests))
	}
	if e.json() {
		out := map[string]any{
			"reference":    ref.String(),
			"digest":       res.Manifest.Digest,
			"mediaType":    res.Manifest.MediaType,
			"size":         res.Manifest.Size,
			"artifactType": res.Manifest.ArtifactType,
			"layers":       layerDescriptors(res.Layers),
			"written":      res.Written,
			"reused":       res.Reused,
			"reusedBytes":  res.ReusedBytes,
			"skipped":      res.TagChange.Skipped,
			"previous":     res.TagChange.Old,
		}
		if img := res.Image; img != nil {
			out["image"] = map[string]any{"tag": img.Tag, "index": img.Index, "manifests": img.Manifests, "layers": layerDescriptors(img.Layers)}
		}
		return e.printJSON(out)
	}
	_, err = fmt.Fprintln(e.stdout, res.Manifest.Digest)
	return err
}

// platformList names the platforms of index members, comma-separated.
func platformList(ms []ocispec.Descriptor) string {
	var out []string
	for _, m := range ms {
		if m.Platform != nil {
			out = append(out, modelcar.PlatformString(*m.Platform))
		}
	}
	return strings.Join(out, ", ")
}

func layerDescriptors(ls []pack.Layer) []any {
	out := make([]any, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Descriptor)
	}
	return out
}
