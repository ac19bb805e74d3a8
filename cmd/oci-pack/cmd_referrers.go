package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "referrers",
		args:    "LAYOUT:REF",
		short:   "list artifacts whose subject is REF",
		long:    "oci-pack referrers models:llama-3-8b\noci-pack referrers models:llama-3-8b --artifact-type application/spdx+json --format json",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			at := fs.String("artifact-type", "", "only referrers of this artifact type")
			return func(e *env, args []string) error {
				ref, err := layout.ParseRef(args[0])
				if err != nil {
					return usagef("%v", err)
				}
				if ref.Tag == "" && ref.Digest == "" {
					return usagef("referrers needs LAYOUT:TAG or LAYOUT@DIGEST, got %q", args[0])
				}
				l, err := e.open(ref.Layout, layout.ReadOnly, false)
				if err != nil {
					return err
				}
				defer l.Close()
				subject, err := l.Resolve(e.ctx, ref)
				if err != nil {
					return err
				}
				refs, err := l.Referrers(e.ctx, subject.Digest, *at)
				if err != nil {
					return err
				}
				if e.json() {
					if refs == nil {
						refs = []ocispec.Descriptor{}
					}
					// The shape of the referrers API response: an image index.
					return e.printJSON(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: refs})
				}
				tw := e.table()
				fmt.Fprintln(tw, "DIGEST\tARTIFACT TYPE\tSIZE")
				for _, r := range refs {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Digest, orDash(safe(r.ArtifactType)), humanBytes(r.Size))
				}
				return tw.Flush()
			}
		},
	})
}
