package main

import (
	"encoding/json"
	"fmt"
	"path"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "index",
		args:  "LAYOUT:TAG REF... [--artifact-type TYPE]",
		short: "make an image index collecting several artifacts of the layout (a CNAB-style collection, model variants)",
		long: `oci-pack index models:bundle model tokenizer --artifact-type application/vnd.acme.bundle.v1
oci-pack index models:llama-all llama-3-8b llama-3-70b@sha256:0123…`,
		minArgs: 2, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			at := fs.String("artifact-type", "", "the index's artifactType")
			force := fs.Bool("force", false, "move the tag if it already names another artifact")
			var ann []string
			fs.StringArrayVarP(&ann, "annotation", "a", nil, "index annotation KEY=VALUE (repeatable)")
			return func(e *env, args []string) error {
				ref, err := layout.ParseRef(args[0])
				if err != nil {
					return usagef("%v", err)
				}
				if ref.Tag == "" {
					return usagef("index needs LAYOUT:TAG, got %q", args[0])
				}
				annotations, err := parseAnnotations(ann)
				if err != nil {
					return err
				}
				members, err := memberRefs(ref.Layout, args[1:])
				if err != nil {
					return err
				}
				l, err := e.open(ref.Layout, layout.ReadWrite, false)
				if err != nil {
					return err
				}
				defer l.Close()
				idx := ocispec.Index{Versioned: specsVersioned(), MediaType: ocispec.MediaTypeImageIndex, ArtifactType: *at, Annotations: annotations}
				for _, r := range members {
					d, err := l.Resolve(e.ctx, r)
					if err != nil {
						return err
					}
					// Members are named by their tag (or digest) so extract
					// can give each its own directory.
					d.Annotations = map[string]string{ocispec.AnnotationTitle: memberName(r)}
					idx.Manifests = append(idx.Manifests, d)
				}
				b, err := json.Marshal(idx)
				if err != nil {
					return err
				}
				res, err := l.Blobs().Put(e.ctx, bytesReader(b), ocispec.Descriptor{})
				if err != nil {
					return err
				}
				desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: res.Descriptor.Digest, Size: res.Descriptor.Size, ArtifactType: *at}
				policy := layout.ConflictFail
				if *force {
					policy = layout.ConflictOverwrite
				}
				if _, err := l.Tag(e.ctx, ref.Tag, desc, policy); err != nil {
					return err
				}
				if e.json() {
					return e.printJSON(desc)
				}
				_, err = fmt.Fprintln(e.stdout, desc.Digest)
				return err
			}
		},
	})
}

// memberRefs parses index's REF arguments (tags or digests of the layout
// at dir). Two members that extract would put into one subdirectory — the
// same tag or digest twice — are a usage error naming both arguments and
// the name, since extract refuses such an index.
func memberRefs(dir string, args []string) ([]layout.Ref, error) {
	byName := map[string]string{}
	refs := make([]layout.Ref, 0, len(args))
	for _, a := range args {
		r, err := refArg(dir, a)
		if err != nil {
			return nil, err
		}
		name := memberName(r)
		key := path.Clean(name) // extract's rule: the cleaned title names the subdirectory
		if prev, dup := byName[key]; dup {
			return nil, usagef("index members %q and %q would both be named %q, and extract puts each member in a subdirectory of that name: give each member once", prev, a, name)
		}
		byName[key] = a
		refs = append(refs, r)
	}
	return refs, nil
}

// memberName is the title an index member is recorded under: its tag, or,
// when given by digest, the digest's hex — extract makes it a directory
// name, and the colon of "sha256:…" is not allowed on FAT, exFAT or NTFS.
func memberName(r layout.Ref) string {
	if r.Digest != "" {
		return r.Digest.Encoded()
	}
	return r.Tag
}

func specsVersioned() specs.Versioned { return specs.Versioned{SchemaVersion: 2} }
