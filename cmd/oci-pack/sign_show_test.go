package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSignShown: inspect and referrers say who signed what — the key hint
// always, and with --key whether each signature verifies and by which
// key; inspect of a signed tag warns that skopeo/crane copy drop the
// signatures and names the loaders that keep them; an unsigned tag gets
// no such warning.
func TestSignShown(t *testing.T) {
	w, l := signedFixture(t)

	r := must(t, w, "inspect", l+":v1")
	for _, want := range []string{"skopeo copy", "crane copy", "oras cp -r", "regctl image copy --referrers", "--digest-tags"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("inspect of a signed tag: the warning does not name %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "bundle signature") || !strings.Contains(r.stdout, "key hint") || !strings.Contains(r.stdout, "not checked") {
		t.Errorf("inspect shows no signature:\n%s", r.stdout)
	}
	if r := must(t, w, "inspect", l+":v2"); strings.Contains(r.stderr, "signature") || strings.Contains(r.stdout, "signature") {
		t.Errorf("inspect of an unsigned tag talks of signatures: %v", r)
	}

	var tree struct {
		Signatures []struct {
			Form, Hint, Key   string
			Checked, Verified bool
		}
	}
	r = must(t, w, "inspect", l+":v1", "--key", "k.pub", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &tree); err != nil || len(tree.Signatures) != 2 {
		t.Fatalf("inspect --format json: %v %v", r, err)
	}
	for _, s := range tree.Signatures {
		if !s.Checked || !s.Verified || s.Key != "k.pub" || (s.Form == "bundle") != (s.Hint != "") {
			t.Errorf("inspect --key k.pub: signature %+v", s)
		}
	}
	r = must(t, w, "inspect", l+":v1", "--key", "other.pub")
	if strings.Count(r.stdout, "NOT verified") != 2 {
		t.Errorf("inspect --key other.pub:\n%s", r.stdout)
	}

	r = must(t, w, "referrers", l+":v1", "--key", "k.pub")
	if !strings.Contains(r.stdout, "SIGNATURE") || strings.Count(r.stdout, "verified by k.pub") != 2 || !strings.Contains(r.stdout, "legacy signature") {
		t.Errorf("referrers --key k.pub:\n%s", r.stdout)
	}
	var refs struct {
		MediaType string
		Manifests []struct {
			ArtifactType string
			Signatures   []struct{ Verified bool }
		}
		LegacySignatures []struct{ Verified bool }
	}
	r = must(t, w, "referrers", l+":v1", "--key", "other.pub", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &refs); err != nil || refs.MediaType != "application/vnd.oci.image.index.v1+json" ||
		len(refs.Manifests) != 1 || len(refs.Manifests[0].Signatures) != 1 || refs.Manifests[0].Signatures[0].Verified ||
		len(refs.LegacySignatures) != 1 || refs.LegacySignatures[0].Verified {
		t.Fatalf("referrers --key other.pub --format json: %v %v", r, err)
	}
	expect(t, w, exitUsage, []string{"not both"}, "referrers", l+":v1", "--key", "k.pub", "--trust", "t.json")
}
