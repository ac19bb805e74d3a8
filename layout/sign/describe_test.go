package sign

import (
	"context"
	"strings"
	"testing"
)

// TestDescribe: every signature is listed with its form and the hint it
// carries; with a policy each says whether it verified and by which key,
// or why not (another key; no rule for the tag).
func TestDescribe(t *testing.T) {
	ctx := context.Background()
	l := newLayout(t)
	desc := artifact(t, l, "v1", "hello")
	s, k, _ := cosignKeys(t, t.TempDir(), "cosign")
	_, other, _ := cosignKeys(t, t.TempDir(), "other")
	if _, err := Sign(ctx, l, desc, s, Options{Legacy: true}); err != nil {
		t.Fatal(err)
	}
	forms := func(infos []Info) string {
		var out []string
		for _, in := range infos {
			out = append(out, in.Form)
		}
		return strings.Join(out, ",")
	}

	infos, err := Describe(ctx, l, "v1", desc.Digest, nil)
	if err != nil || forms(infos) != "bundle,legacy" {
		t.Fatalf("Describe = %+v, %v", infos, err)
	}
	if infos[0].Hint != k.Hint || infos[1].Hint != "" || infos[0].Checked || infos[0].Verified {
		t.Fatalf("unchecked: %+v", infos)
	}

	infos, _ = Describe(ctx, l, "v1", desc.Digest, KeysPolicy(other, k))
	for _, in := range infos {
		if !in.Checked || !in.Verified || in.Key != k.Name || in.Problem != "" {
			t.Fatalf("checked with the signer's key: %+v", in)
		}
	}

	infos, _ = Describe(ctx, l, "v1", desc.Digest, KeysPolicy(other))
	for _, in := range infos {
		if !in.Checked || in.Verified || in.Key != "" || !strings.Contains(in.Problem, "bad signature") && !strings.Contains(in.Problem, "does not verify") {
			t.Fatalf("checked with another key: %+v", in)
		}
	}

	p := &Policy{Rules: []Rule{{Tags: []string{"release-*"}, Keys: []*PublicKey{k}}}}
	infos, _ = Describe(ctx, l, "v1", desc.Digest, p)
	if len(infos) != 2 || infos[0].Verified || !strings.Contains(infos[0].Problem, "no trust rule") {
		t.Fatalf("a tag no rule covers: %+v", infos)
	}
	// By digest, every key the policy names counts.
	infos, _ = Describe(ctx, l, "", desc.Digest, p)
	if len(infos) != 2 || !infos[0].Verified || !infos[1].Verified {
		t.Fatalf("by digest: %+v", infos)
	}
}
