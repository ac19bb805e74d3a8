package sign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Result is what Verify found for one tag (or digest).
type Result struct {
	Tag    string        `json:"tag,omitempty"`
	Digest digest.Digest `json:"digest"`
	// Signed: at least one signature by a key trusted for the tag names
	// exactly Digest.
	Signed bool `json:"signed"`
	// By lists the signatures that verified.
	By []SignedBy `json:"signedBy,omitempty"`
	// Problems say why a signature found did not count, or that there
	// was none.
	Problems []string `json:"problems,omitempty"`
}

// SignedBy is one signature that verified.
type SignedBy struct {
	Key       string        `json:"key"`
	Hint      string        `json:"hint"`
	Form      string        `json:"form"`
	Signature digest.Digest `json:"signature"`
}

// Report is Verify's result, one entry per tag, in tag order.
type Report struct {
	Results []Result `json:"results"`
}

// Err is nil when every result is signed, else an error wrapping
// ErrUnsigned (or ErrBadSignature when a signature was found but none
// verified) that names the tags.
func (r *Report) Err() error {
	var unsigned, bad []string
	for _, res := range r.Results {
		if res.Signed {
			continue
		}
		name := res.Tag
		if name == "" {
			name = res.Digest.String()
		}
		if len(res.Problems) > 0 && !strings.HasPrefix(res.Problems[0], noSignature) {
			bad = append(bad, name)
		} else {
			unsigned = append(unsigned, name)
		}
	}
	switch {
	case len(bad) > 0:
		return fmt.Errorf("%s: %w", strings.Join(append(bad, unsigned...), ", "), ErrBadSignature)
	case len(unsigned) > 0:
		return fmt.Errorf("%s: %w", strings.Join(unsigned, ", "), ErrUnsigned)
	}
	return nil
}

const noSignature = "no signature"

// Verify checks the signatures of refs (tags or digests of l; none: every
// tag but signature bookkeeping) against p, offline. A tag counts as
// signed when a signature by a key p trusts for that tag verifies and
// names the tag's exact manifest digest; a digest ref is checked against
// every key p names. The report says, per tag, which key signed it or why
// not; a layout that cannot be read is an error.
func Verify(ctx context.Context, l *layout.Layout, refs []layout.Ref, p *Policy) (*Report, error) {
	targets, err := verifyTargets(ctx, l, refs)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, t := range targets {
		keys := p.AllKeys()
		if t.tag != "" {
			keys = p.KeysFor(t.tag)
		}
		rep.Results = append(rep.Results, CheckSubject(ctx, l, t.tag, t.desc.Digest, keys))
	}
	return rep, nil
}

type target struct {
	tag  string
	desc ocispec.Descriptor
}

func verifyTargets(ctx context.Context, l *layout.Layout, refs []layout.Ref) ([]target, error) {
	var out []target
	if len(refs) == 0 {
		idx, err := l.Index(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range layout.Tags(idx) {
			if !IsSignatureTag(t.Name) {
				out = append(out, target{t.Name, t.Descriptor})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].tag < out[j].tag })
		return out, nil
	}
	for _, r := range refs {
		d, err := l.Resolve(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, target{r.Tag, d})
	}
	return out, nil
}

// CheckSubject checks the signatures of d (tagged tag, "" if none) against
// keys and reports the outcome.
func CheckSubject(ctx context.Context, l *layout.Layout, tag string, d digest.Digest, keys []*PublicKey) Result {
	res := Result{Tag: tag, Digest: d}
	if tag != "" && len(keys) == 0 {
		res.Problems = append(res.Problems, noSignature+" can count: no trust rule matches this tag")
		return res
	}
	if _, err := l.ResolveDigest(ctx, &ocispec.Index{}, d); err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("cannot read %s: %v", d, err))
		return res
	}
	found, err := Find(ctx, l, d)
	if err != nil {
		res.Problems = append(res.Problems, err.Error())
		return res
	}
	return checkFound(ctx, l, res, found, keys)
}

// checkFound checks the signatures found for res.Digest against keys and
// completes res.
func checkFound(ctx context.Context, l *layout.Layout, res Result, found []Found, keys []*PublicKey) Result {
	d := res.Digest
	if len(found) == 0 {
		res.Problems = append(res.Problems, noSignature+" found")
		return res
	}
	for _, f := range found {
		k, err := f.Check(ctx, l, d, keys)
		if err != nil {
			if errors.Is(err, ErrUnsigned) {
				res.Problems = append(res.Problems, fmt.Sprintf("%s signature %s: %v", f.Form, f.Manifest.Digest, err))
			} else {
				res.Problems = append(res.Problems, fmt.Sprintf("%s signature %s (hint %s): %v", f.Form, f.Manifest.Digest, orNone(f.Hint), err))
			}
			continue
		}
		res.Signed = true
		res.By = append(res.By, SignedBy{Key: k.Name, Hint: k.Hint, Form: f.Form, Signature: f.Manifest.Digest})
	}
	return res
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
