package main

import (
	"fmt"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/sign"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "sign",
		args:  "LAYOUT:REF... --key KEY",
		short: "sign REF offline: a Sigstore bundle referrer that cosign v3 verifies (--legacy-tag: also cosign v2's sha256-<hex>.sig)",
		long: `oci-pack sign models:llama-3-8b --key cosign.key
oci-pack sign models:llama-3-8b models:mistral-7b --key release.key --legacy-tag
oci-pack sign models:multiarch --key cosign.key --recursive      # the index and each manifest in it
oci-pack verify models:llama-3-8b --key cosign.pub`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			key := fs.String("key", "", "private key: cosign's encrypted key (password from OCI_PACK_PASSWORD, COSIGN_PASSWORD or a prompt) or PKCS#8 PEM (required)")
			legacy := fs.Bool("legacy-tag", false, "also write cosign's simple-signing signature under the tag sha256-<hex>.sig (cosign v2, Harbor)")
			recursive := fs.Bool("recursive", false, "for an index, sign each manifest in it too")
			identity := fs.String("identity", "", "the docker-reference a --legacy-tag signature claims (cosign writes REGISTRY/REPO)")
			return func(e *env, args []string) error {
				if *key == "" {
					return usagef("--key KEY is required")
				}
				var dir string
				var refs []layout.Ref
				for _, a := range args {
					r, err := parseArtifact(a, writeRef, false)
					if err != nil {
						return err
					}
					if dir != "" && r.Layout != dir {
						return usagef("all references must name the same layout: %q and %q", dir, r.Layout)
					}
					dir = r.Layout
					refs = append(refs, r)
				}
				created, err := createdTime()
				if err != nil {
					return err
				}
				s, err := sign.LoadSigner(*key, keyPassword(e))
				if err != nil {
					return err
				}
				l, err := e.open(dir, layout.ReadWrite, false)
				if err != nil {
					return err
				}
				defer l.Close()
				var all []sign.Signature
				for _, r := range refs {
					subject, err := l.Resolve(e.ctx, r)
					if err != nil {
						return err
					}
					sigs, err := sign.Sign(e.ctx, l, subject, s, sign.Options{Legacy: *legacy, Recursive: *recursive, Created: created, Identity: *identity})
					if err != nil {
						return fmt.Errorf("%s: %w", r, err)
					}
					for _, sg := range sigs {
						e.infof("signed %s (%s) with key %s: referrer %s", r.Name(), sg.Subject.Digest, s.Hint(), sg.Referrer.Digest)
						if sg.LegacyTag != "" {
							e.infof("  legacy signature under tag %s", sg.LegacyTag)
						}
					}
					all = append(all, sigs...)
				}
				if e.json() {
					return e.printJSON(signedJSON(all))
				}
				for _, sg := range all {
					fmt.Fprintln(e.stdout, sg.Referrer.Digest)
				}
				return nil
			}
		},
	})
}

// signedLine is one signature in sign's JSON output (docs/json).
type signedLine struct {
	Subject   ocispec.Descriptor  `json:"subject"`
	Referrer  ocispec.Descriptor  `json:"referrer"`
	LegacyTag string              `json:"legacyTag,omitempty"`
	Legacy    *ocispec.Descriptor `json:"legacy,omitempty"`
	Hint      string              `json:"hint"`
}

func signedJSON(sigs []sign.Signature) []signedLine {
	out := make([]signedLine, 0, len(sigs))
	for _, s := range sigs {
		l := signedLine{Subject: s.Subject, Referrer: s.Referrer, LegacyTag: s.LegacyTag, Hint: s.Hint}
		if s.LegacyTag != "" {
			l.Legacy = &s.Legacy
		}
		out = append(out, l)
	}
	return out
}

// createdTime is the time a signature records: SOURCE_DATE_EPOCH when
// set (reproducible builds), else now.
func createdTime() (time.Time, error) {
	t, ok, err := sourceDateEpoch()
	if err != nil || ok {
		return t, err
	}
	return time.Now(), nil
}
