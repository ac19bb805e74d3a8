package main

import (
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/spf13/pflag"
)

// trustOpts are the flags that name trusted keys (verify, import).
type trustOpts struct {
	keys  *[]string
	trust *string
}

func trustFlags(fs *pflag.FlagSet) trustOpts {
	return trustOpts{
		keys:  fs.StringArray("key", nil, "trusted public key (PEM, e.g. cosign.pub); repeatable: any one suffices"),
		trust: fs.String("trust", "", "trust policy: JSON mapping tag globs to public keys (see oci-pack help verify)"),
	}
}

// policy builds the trust policy the flags give; nil when none is given.
func (t trustOpts) policy() (*sign.Policy, error) {
	if len(*t.keys) > 0 && *t.trust != "" {
		return nil, usagef("give --key or --trust, not both")
	}
	if *t.trust != "" {
		return sign.LoadPolicy(*t.trust)
	}
	if len(*t.keys) == 0 {
		return nil, nil
	}
	var keys []*sign.PublicKey
	for _, p := range *t.keys {
		k, err := sign.LoadPublicKey(p)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return sign.KeysPolicy(keys...), nil
}

// printSignatureReport prints, per tag, who signed it or why not.
func printSignatureReport(e *env, rep *sign.Report) {
	for _, r := range rep.Results {
		name := r.Tag
		if name == "" {
			name = r.Digest.String()
		}
		if r.Signed {
			var by []string
			for _, b := range r.By {
				by = append(by, fmt.Sprintf("%s (%s, hint %s)", b.Key, b.Form, b.Hint))
			}
			fmt.Fprintf(e.stdout, "signed: %s %s by %s\n", safe(name), r.Digest, strings.Join(by, ", "))
			continue
		}
		fmt.Fprintf(e.stdout, "NOT SIGNED: %s %s: %s\n", safe(name), r.Digest, strings.Join(r.Problems, "; "))
	}
}
