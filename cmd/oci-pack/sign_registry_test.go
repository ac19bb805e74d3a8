package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignLegacyThroughRegistry: cosign v2 looks for a signature under
// the sha256-<hex>.sig tag beside the image. A push of one tag (push
// LAYOUT:TAG and copy LAYOUT:TAG REGISTRY/…) sends that tag with the
// graph, and a pull of the tag brings it back, so the signature verifies
// at the far end, as does a registry-to-registry copy; --no-referrers
// sends none; a push of the whole layout sends it once.
func TestSignLegacyThroughRegistry(t *testing.T) {
	w, l := signedFixture(t)
	addr := startRegistry(t)
	env := regEnv(t)
	run := func(args ...string) result {
		t.Helper()
		r := ociPackEnv(t, w, env, args...)
		if r.code != 0 {
			t.Fatalf("oci-pack %s: %v", strings.Join(args, " "), r)
		}
		return r
	}
	legacyOut := func(r result) int {
		t.Helper()
		var out struct{ LegacySignatures []json.RawMessage }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("--format json: %v\n%s", err, r.stdout)
		}
		return len(out.LegacySignatures)
	}

	if n := legacyOut(run("push", l+":v1", addr+"/one:v1", "--plain-http", "--format", "json")); n != 1 {
		t.Errorf("push L:v1 sent %d legacy signature(s), want 1", n)
	}
	p := filepath.Join(w, "P")
	if n := legacyOut(run("pull", addr+"/one:v1", p+":v1", "--plain-http", "--format", "json")); n != 1 {
		t.Errorf("pull of v1 fetched %d legacy signature(s), want 1", n)
	}
	if got := legacyBy(t, w, p, "v1", "k.pub"); len(got) != 1 {
		t.Errorf("legacy signatures of v1 after push and pull: %v, want k's", got)
	}
	run("verify", p)

	if n := legacyOut(run("copy", l+":v1", addr+"/two:v1", "--plain-http", "--format", "json")); n != 1 {
		t.Errorf("copy L:v1 REGISTRY sent %d legacy signature(s), want 1", n)
	}

	// Registry to registry: oras-go copies the graph and referrers, the
	// .sig tag is copied beside it.
	if n := legacyOut(run("copy", addr+"/one:v1", addr+"/four:v1", "--plain-http", "--format", "json")); n != 1 {
		t.Errorf("copy REGISTRY REGISTRY sent %d legacy signature(s), want 1", n)
	}
	c := filepath.Join(w, "C")
	run("pull", addr+"/four:v1", c+":v1", "--plain-http")
	if got := legacyBy(t, w, c, "v1", "k.pub"); len(got) != 1 {
		t.Errorf("legacy signatures of v1 after a registry-to-registry copy: %v", got)
	}

	if n := legacyOut(run("push", l+":v1", addr+"/three:v1", "--plain-http", "--no-referrers", "--format", "json")); n != 0 {
		t.Errorf("push --no-referrers sent %d legacy signature(s)", n)
	}
	q := filepath.Join(w, "Q")
	run("pull", addr+"/three:v1", q+":v1", "--plain-http")
	if got := legacyBy(t, w, q, "v1", "k.pub"); len(got) != 0 {
		t.Errorf("a pull from a repository without the .sig tag found %v", got)
	}

	// The whole layout: v1, v2 and v1's .sig tag, the signature once.
	r := run("push", l, addr+"/all", "--plain-http")
	if c := strings.Count(r.stderr, ".sig tag(s)"); c != 1 || strings.Contains(r.stderr, ".sig:") {
		t.Errorf("push of the whole layout: the .sig tag sent %d time(s) with a graph, or on its own:\n%s", c, r.stderr)
	}
	a := filepath.Join(w, "A")
	run("pull", addr+"/all:v1", a+":v1", "--plain-http")
	if got := legacyBy(t, w, a, "v1", "k.pub"); len(got) != 1 {
		t.Errorf("legacy signatures of v1 after pushing the whole layout: %v", got)
	}
}
