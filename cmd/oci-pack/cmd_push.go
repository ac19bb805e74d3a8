package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "push",
		args:  "LAYOUT[:REF] REGISTRY/REPO[:TAG]",
		short: "push an artifact's graph (with its referrers) to a registry, resuming where an interrupted push stopped",
		long: `oci-pack push offline:llama-3-8b registry.local/models/llama:3-8b
oci-pack push offline registry.local/models/llama          # every tag, under its own name
oci-pack push offline@sha256:0123… registry.local/models/llama:v1 --no-referrers
oci-pack push offline:v1 localhost:5000/llama --plain-http
oci-pack push offline:v1 registry.local/team-b/llama --mount-from team-a/llama`,
		minArgs: 2, maxArgs: 2,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			noRef := fs.Bool("no-referrers", false, "do not push artifacts that refer to it")
			mountFrom := fs.StringArray("mount-from", nil, "repository on the same registry to mount blobs from before uploading them (repeatable)")
			chunk := fs.String("chunk-size", "16MiB", "bytes per upload request; an interrupted upload resumes after the last one the registry stored")
			var rf registryFlags
			rf.apply(fs)
			rf.applyResume(fs)
			return func(e *env, args []string) error {
				src, err := parseRef(args[0], readRef)
				if err != nil {
					return err
				}
				if !registry.IsReference(args[1]) {
					return usagef("push needs a registry reference REGISTRY/REPO[:TAG] as its destination, got %q (to copy between layouts use copy)", args[1])
				}
				dst, err := rf.remote(args[1])
				if err != nil {
					return err
				}
				if _, err := dst.Ref.Digest(); err == nil {
					return usagef("the destination takes a tag, not a digest: %q", args[1])
				}
				cs, err := parseSize(*chunk)
				if err != nil || cs < 1<<20 {
					return usagef("--chunk-size %q: want a size of at least 1MiB", *chunk)
				}
				l, err := e.open(src.Layout, layout.ReadOnly, false)
				if err != nil {
					return err
				}
				defer l.Close()
				roots, err := pushRoots(e, l, src, dst.Ref.Reference, !*noRef)
				if err != nil {
					return err
				}
				for _, r := range roots {
					o, wait := e.transferOptions(&rf, !*noRef)
					o.MountFrom, o.ChunkSize = *mountFrom, cs
					res, err := registry.Push(e.ctx, l, r.desc, dst, r.tag, o)
					wait()
					if err != nil {
						return err
					}
					where := "to " + dst.Ref.Registry + "/" + dst.Ref.Repository
					if r.tag != "" {
						where += ":" + r.tag
					}
					if err := e.reportTransfer("pushed", where, res); err != nil {
						return err
					}
				}
				return nil
			}
		},
	})
}

type pushRoot struct {
	desc ocispec.Descriptor
	tag  string
}

// pushRoots is what push sends: the artifact src names, tagged dstTag
// (else src's tag; a digest alone is pushed untagged), or with no ref
// every tag of the layout under its own name. With referrers, a cosign
// legacy signature tag whose subject is another root is left to that
// root's push (registry.Push sends it with the graph), not sent twice.
func pushRoots(e *env, l *layout.Layout, src layout.Ref, dstTag string, referrers bool) ([]pushRoot, error) {
	if src.Tag != "" || src.Digest != "" {
		desc, err := l.Resolve(e.ctx, src)
		if err != nil {
			return nil, err
		}
		if dstTag == "" {
			dstTag = src.Tag
		}
		return []pushRoot{{desc, dstTag}}, nil
	}
	if dstTag != "" {
		return nil, usagef("pushing every tag of %s: the destination takes no tag (give LAYOUT:TAG to push one)", src.Layout)
	}
	idx, err := l.Index(e.ctx)
	if err != nil {
		return nil, err
	}
	tags := layout.Tags(idx)
	rooted := map[digest.Digest]bool{}
	for _, t := range tags {
		if !layout.IsReferrersTag(t.Name) && !layout.IsLegacySignatureTag(t.Name) {
			rooted[t.Descriptor.Digest] = true
		}
	}
	var out []pushRoot
	for _, t := range tags {
		if layout.IsReferrersTag(t.Name) {
			continue
		}
		if s, ok := layout.TagSubject(t.Name); ok && referrers && layout.IsLegacySignatureTag(t.Name) && rooted[s] {
			continue
		}
		out = append(out, pushRoot{t.Descriptor, t.Name})
	}
	if len(out) == 0 {
		return nil, usagef("layout %s has no tags to push", src.Layout)
	}
	return out, nil
}
