package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignGC: gc keeps a signed tag's signatures; once the tag is gone,
// gc --dry-run names what would go and changes nothing, and gc drops the
// signature entries (bundle referrer, referrers-tag index, .sig tag) and
// frees their blobs.
func TestSignGC(t *testing.T) {
	w, l := signedFixture(t)
	var res struct {
		Entries []struct{ Tag, Subject string }
		Blobs   []struct{ Digest string }
	}
	r := must(t, w, "gc", l, "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Entries) != 0 || len(res.Blobs) != 0 {
		t.Fatalf("gc with v1 tagged: %v %v", r, err)
	}
	must(t, w, "verify", l, "v1", "--key", "k.pub")
	v1 := strings.Fields(must(t, w, "untag", l+":v1").stdout)[1]
	sub := "sha256-" + strings.TrimPrefix(v1, "sha256:")
	before := txSHA256(txRead(t, filepath.Join(l, "index.json")))
	blobs := len(txBlobs(t, l))
	r = must(t, w, "gc", l, "--dry-run")
	if strings.Count(r.stderr, "would drop") != 3 || !strings.Contains(r.stderr, sub+".sig") || !strings.Contains(r.stderr, "untagged referrer") {
		t.Fatalf("gc --dry-run: %v", r)
	}
	unchanged(t, l, before)
	if len(txBlobs(t, l)) != blobs {
		t.Fatal("gc --dry-run deleted blobs")
	}
	r = must(t, w, "gc", l, "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Entries) != 3 {
		t.Fatalf("gc: %v %v", r, err)
	}
	for _, e := range res.Entries {
		if e.Subject != v1 {
			t.Errorf("entry %+v: subject is not v1's %s", e, v1)
		}
	}
	// v1's manifest, layer, and the signatures' blobs are gone; v2 stays.
	if idx := string(txRead(t, filepath.Join(l, "index.json"))); strings.Contains(idx, sub) || strings.Count(idx, `"digest"`) != 1 {
		t.Fatalf("index.json after gc: %s", idx)
	}
	if got := len(txBlobs(t, l)); got != blobs-len(res.Blobs) || len(res.Blobs) < 8 {
		t.Fatalf("gc freed %d blob(s), %d left of %d", len(res.Blobs), got, blobs)
	}
	must(t, w, "verify", l)
}
