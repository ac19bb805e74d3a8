package sign

import (
	"context"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// Info describes one signature of a subject for people (inspect,
// referrers): its form, where it is stored, the key hint it carries and,
// when checked against keys, whether it verifies and with which key.
type Info struct {
	Form      string        `json:"form"`      // FormBundle or FormLegacy
	Signature digest.Digest `json:"signature"` // the bundle referrer or the .sig manifest
	Layer     digest.Digest `json:"layer"`     // the bundle or simple-signing payload
	// Hint is the key hint a bundle carries: unverified, it says which key
	// claims to have signed ("" for the legacy form, which carries none).
	Hint string `json:"hint,omitempty"`
	// Checked is set when the signature was checked against trusted keys;
	// then Verified says whether it verified, Key by which key, and
	// Problem why not.
	Checked  bool   `json:"checked"`
	Verified bool   `json:"verified"`
	Key      string `json:"key,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Describe lists the signatures l holds for d (as Find does) with the hint
// each carries. With a policy each is checked, offline, against the keys p
// trusts for tag (every key p names when tag is ""). A signature that
// cannot be read is listed with the problem, not an error.
func Describe(ctx context.Context, l *layout.Layout, tag string, d digest.Digest, p *Policy) ([]Info, error) {
	found, err := Find(ctx, l, d)
	if err != nil {
		return nil, err
	}
	var keys []*PublicKey
	if p != nil {
		keys = p.AllKeys()
		if tag != "" {
			keys = p.KeysFor(tag)
		}
	}
	out := make([]Info, 0, len(found))
	for _, f := range found {
		in := Info{Form: f.Form, Signature: f.Manifest.Digest, Layer: f.Layer.Digest, Hint: f.Hint}
		if p != nil {
			in.Checked = true
			switch k, err := f.Check(ctx, l, d, keys); {
			case err != nil && len(keys) == 0 && tag != "":
				in.Problem = "no trust rule matches tag " + tag
			case err != nil:
				in.Problem = err.Error()
			default:
				in.Verified, in.Key = true, k.Name
			}
		}
		out = append(out, in)
	}
	return out, nil
}
