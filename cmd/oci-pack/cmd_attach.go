package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "attach",
		args:  "LAYOUT:REF PATH[:MEDIATYPE]... --artifact-type TYPE",
		short: "build an artifact whose subject is REF (an SBOM, a signature, a model card); prints its digest",
		long: `oci-pack attach models:llama-3-8b sbom.spdx.json --artifact-type application/spdx+json
oci-pack attach models:llama-3-8b card.md --artifact-type application/vnd.acme.model-card.v1 -a org.opencontainers.image.description="model card"`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			var pf packFlags
			pf.apply(fs)
			return func(e *env, args []string) error {
				ref, err := parseArtifact(args[0], writeRef, false)
				if err != nil {
					return err
				}
				if pf.artifactType == "" {
					return usagef("attach needs --artifact-type")
				}
				o, err := pf.options(e)
				if err != nil {
					return err
				}
				in, err := inputs(args[1:])
				if err != nil {
					return err
				}
				return runAttach(e, ref, in, o)
			}
		},
	})
}

func runAttach(e *env, ref layout.Ref, in []pack.Input, o pack.Options) error {
	l, err := e.open(ref.Layout, layout.ReadWrite, false)
	if err != nil {
		return err
	}
	defer l.Close()
	subject, err := l.Resolve(e.ctx, ref)
	if err != nil {
		return err
	}
	o.Subject = &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	prog, wait := e.progress()
	o.Progress = prog
	res, err := pack.Pack(e.ctx, l, in, o)
	wait()
	if err != nil {
		return err
	}
	e.infof("attached %s to %s", res.Manifest.Digest, subject.Digest)
	if e.json() {
		return e.printJSON(map[string]any{"digest": res.Manifest.Digest, "subject": subject.Digest, "artifactType": res.Manifest.ArtifactType, "size": res.Manifest.Size})
	}
	_, err = fmt.Fprintln(e.stdout, res.Manifest.Digest)
	return err
}
