package main

import (
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:     "referrers",
		readOnly: true,
		args:     "LAYOUT:REF",
		short:    "list artifacts whose subject is REF",
		long:     "oci-pack referrers models:llama-3-8b\noci-pack referrers models:llama-3-8b --artifact-type application/spdx+json --format json\noci-pack referrers models:llama-3-8b --key cosign.pub   # who signed it, verified",
		minArgs:  1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			at := fs.String("artifact-type", "", "only referrers of this artifact type")
			trust := trustFlags(fs)
			return func(e *env, args []string) error {
				p, err := trust.policy()
				if err != nil {
					return err
				}
				ref, err := parseArtifact(args[0], readRef, false)
				if err != nil {
					return err
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
				sigs, err := sign.Describe(e.ctx, l, ref.Tag, subject.Digest, p)
				if err != nil {
					return err
				}
				out := referrersOutput(refs, sigs, *at)
				if e.json() {
					return e.printJSON(out)
				}
				tw := e.table()
				fmt.Fprintln(tw, "DIGEST\tARTIFACT TYPE\tSIZE\tSIGNATURE")
				for _, r := range out.Manifests {
					sig := "-"
					if len(r.Signatures) > 0 {
						var st []string
						for _, s := range r.Signatures {
							st = append(st, signatureStatus(s))
						}
						sig = strings.Join(st, "; ")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Digest, orDash(safe(r.ArtifactType)), humanBytes(r.Size), sig)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, s := range out.LegacySignatures {
					fmt.Fprintf(e.stdout, "%s signature %s under tag %s (a tag, not a referrer): %s\n", s.Form, s.Signature, layout.LegacySignatureTag(subject.Digest), signatureStatus(s))
				}
				return nil
			}
		},
	})
}

// referrer is one entry of referrers' JSON output: the descriptor the
// referrers API would list, and for a signature who signed it.
type referrer struct {
	ocispec.Descriptor
	Signatures []sign.Info `json:"signatures,omitempty"`
}

// referrersDoc is referrers' JSON output: the shape of the referrers API
// response (an image index), its entries annotated with the signatures
// they hold, and cosign's legacy signatures of the subject (a tag of their
// own, not referrers) beside them.
type referrersDoc struct {
	specs.Versioned
	MediaType        string      `json:"mediaType"`
	Manifests        []referrer  `json:"manifests"`
	LegacySignatures []sign.Info `json:"legacySignatures,omitempty"`
}

// referrersOutput pairs each referrer with the signatures it holds; legacy
// signatures are listed unless an artifact type filter excludes them.
func referrersOutput(refs []ocispec.Descriptor, sigs []sign.Info, artifactType string) referrersDoc {
	out := referrersDoc{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []referrer{}}
	for _, r := range refs {
		e := referrer{Descriptor: r}
		for _, s := range sigs {
			if s.Form == sign.FormBundle && s.Signature == r.Digest {
				e.Signatures = append(e.Signatures, s)
			}
		}
		out.Manifests = append(out.Manifests, e)
	}
	for _, s := range sigs {
		if s.Form == sign.FormLegacy && (artifactType == "" || artifactType == layout.MediaTypeCosignSimpleSigning) {
			out.LegacySignatures = append(out.LegacySignatures, s)
		}
	}
	return out
}
