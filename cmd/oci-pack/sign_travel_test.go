package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// legacyBy returns the keys whose legacy (.sig) signatures of tag verify
// in layout l, as referrers --format json --key reports them.
func legacyBy(t *testing.T, w, l, tag string, keys ...string) []string {
	t.Helper()
	args := []string{"referrers", l + ":" + tag, "--format", "json"}
	for _, k := range keys {
		args = append(args, "--key", k)
	}
	var out struct {
		LegacySignatures []struct {
			Verified bool
			Key      string
		}
	}
	r := must(t, w, args...)
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("referrers --format json: %v\n%s", err, r.stdout)
	}
	var by []string
	for _, s := range out.LegacySignatures {
		if s.Verified {
			by = append(by, s.Key)
		}
	}
	return by
}

// TestSignLegacyTravels: export L:v1 carries v1's sha256-<hex>.sig tag;
// import merges it with the signatures the target holds for v1 (another
// key's), as does an import of two archives at once and copy — never a
// tag conflict.
func TestSignLegacyTravels(t *testing.T) {
	w, l := signedFixture(t)
	must(t, w, "export", l+":v1", "-o", "v1.tar")

	dst := filepath.Join(w, "D")
	must(t, w, "import", "v1.tar", dst)
	if got := legacyBy(t, w, dst, "v1", "k.pub"); len(got) != 1 {
		t.Fatalf("legacy signatures of v1 after import: %v", got)
	}

	// The far site signed v1 itself (another key, legacy form) before
	// the archive arrived: both sites' signatures end up under the tag.
	far := filepath.Join(w, "F")
	must(t, w, "copy", l+":v1", far+":v1", "--no-referrers")
	if got := legacyBy(t, w, far, "v1", "k.pub"); len(got) != 0 {
		t.Fatalf("copy --no-referrers carried a legacy signature: %v", got)
	}
	if r := ociPackEnv(t, w, signEnv, "sign", far+":v1", "--key", "other.key", "--legacy-tag"); r.code != 0 {
		t.Fatal(r)
	}
	must(t, w, "import", "v1.tar", far)
	if got := legacyBy(t, w, far, "v1", "k.pub", "other.pub"); len(got) != 2 {
		t.Fatalf("legacy signatures of v1 after the merge: %v, want k's and other's", got)
	}
	must(t, w, "verify", far)

	// Two archives, each with its own legacy signature of v1, at once.
	if r := ociPackEnv(t, w, signEnv, "sign", far+":v1", "--key", "k.key", "--legacy-tag"); r.code != 0 {
		t.Fatal(r)
	}
	must(t, w, "export", far+":v1", "-o", "far.tar")
	both := filepath.Join(w, "B")
	must(t, w, "import", "v1.tar", "far.tar", both)
	if got := legacyBy(t, w, both, "v1", "k.pub", "other.pub"); len(got) != 3 {
		t.Fatalf("legacy signatures of v1 after importing two archives: %v, want 3", got)
	}

	// copy carries and merges them too.
	must(t, w, "copy", far+":v1", dst+":v1")
	if got := legacyBy(t, w, dst, "v1", "k.pub", "other.pub"); len(got) != 3 {
		t.Fatalf("legacy signatures of v1 after copy: %v, want 3", got)
	}
	must(t, w, "verify", dst)
}
