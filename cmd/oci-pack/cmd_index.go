package main

import (
	"fmt"
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
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
			var cf conflictFlags
			cf.apply(fs)
			var ann []string
			fs.StringArrayVarP(&ann, "annotation", "a", nil, "index annotation KEY=VALUE (repeatable)")
			return func(e *env, args []string) error {
				ref, err := parseArtifact(args[0], writeRef, true)
				if err != nil {
					return err
				}
				annotations, err := parseAnnotations(ann)
				if err != nil {
					return err
				}
				members, err := memberRefs(ref.Layout, args[1:])
				if err != nil {
					return err
				}
				policy, err := cf.resolve(e)
				if err != nil {
					return err
				}
				l, err := e.open(ref.Layout, layout.ReadWrite, false)
				if err != nil {
					return err
				}
				defer l.Close()
				var ms []layout.IndexMember
				for _, r := range members {
					d, err := l.Resolve(e.ctx, r)
					if err != nil {
						return err
					}
					// Members are named by their tag (or digest) so extract
					// can give each its own directory.
					ms = append(ms, layout.IndexMember{Descriptor: d, Title: memberName(r)})
				}
				desc, _, err := l.BuildIndex(e.ctx, ms, layout.IndexOptions{ArtifactType: *at, Annotations: annotations, Tag: ref.Tag, Conflict: policy})
				if err != nil {
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

// memberRefs parses index's member arguments: LAYOUT:TAG or
// LAYOUT@DIGEST of the layout at dir, or a bare TAG or DIGEST of it.
func memberRefs(dir string, args []string) ([]layout.Ref, error) {
	for _, a := range args {
		if filepath.Clean(a) == filepath.Clean(dir) {
			return nil, usagef("a member is an artifact of the layout (TAG, LAYOUT:TAG or LAYOUT@DIGEST), not the layout %s", a)
		}
	}
	rl, err := parseRefList(append([]string{dir}, args...), readRef)
	return rl.refs, err
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
