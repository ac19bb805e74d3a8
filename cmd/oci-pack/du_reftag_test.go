package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDuHidesReferrersTags: du lists the rows ls lists — a signed tag's
// referrers-tag index (sha256-<hex>) only with --all, in text and JSON —
// while its totals count every blob either way.
func TestDuHidesReferrersTags(t *testing.T) {
	w, l := signedFixture(t)
	tagsOf := func(args ...string) ([]string, int64) {
		t.Helper()
		var out struct {
			Tags   []struct{ Tag string }
			Stored int64
		}
		r := must(t, w, append([]string{"du", l, "--format", "json"}, args...)...)
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("du --format json: %v\n%s", err, r.stdout)
		}
		var tags []string
		for _, x := range out.Tags {
			tags = append(tags, x.Tag)
		}
		return tags, out.Stored
	}
	isRefTag := func(s string) bool { return strings.HasPrefix(s, "sha256-") && !strings.HasSuffix(s, ".sig") }
	plain, stored := tagsOf()
	all, storedAll := tagsOf("--all")
	for _, tg := range plain {
		if isRefTag(tg) {
			t.Errorf("du lists the referrers-tag index %s without --all: %v", tg, plain)
		}
	}
	hidden := 0
	for _, tg := range all {
		if isRefTag(tg) {
			hidden++
		}
	}
	if hidden == 0 || len(all) != len(plain)+hidden || stored != storedAll {
		t.Errorf("du --all %v (stored %d) against du %v (stored %d): want the referrers-tag rows added, the same totals", all, storedAll, plain, stored)
	}
	if r := must(t, w, "du", l); !strings.Contains(r.stdout, "referrers-tag index row(s) not shown: --all lists them") || strings.Count(r.stdout, "sha256-") != 1 {
		t.Errorf("du text: %s", r.stdout)
	}
}
