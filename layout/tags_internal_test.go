package layout

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var (
	tA = digest.FromString("a")
	tB = digest.FromString("b")
)

// TestTagPolicies: the index mutators behind IndexEdit — conflict
// policies, untagged entries never carrying ref.name, removal.
func TestTagPolicies(t *testing.T) {
	a, b := ocispec.Descriptor{Digest: tA, Size: 1}, ocispec.Descriptor{Digest: tB, Size: 1}
	idx := &ocispec.Index{}
	tb := &indexTable{idx: idx}
	if ch, err := tb.setTag("v1", a, ConflictFail); err != nil || ch.Old != "" || ch.New != tA {
		t.Fatalf("new tag: %+v, %v", ch, err)
	}
	if ch, err := tb.setTag("v1", a, ConflictFail); err != nil || ch.Old != tA || len(idx.Manifests) != 1 {
		t.Fatalf("same digest again: %+v, %v, %d entries", ch, err, len(idx.Manifests))
	}
	_, err := tb.setTag("v1", b, ConflictFail)
	if !errors.Is(err, ErrTagExists) || !strings.Contains(err.Error(), `"v1"`) || !strings.Contains(err.Error(), tA.String()) || !strings.Contains(err.Error(), tB.String()) {
		t.Fatalf("conflict: %v; want ErrTagExists naming the tag and both digests", err)
	}
	if ch, err := tb.setTag("v1", b, ConflictSkip); err != nil || !ch.Skipped || idx.Manifests[0].Digest != tA {
		t.Fatalf("skip: %+v, %v", ch, err)
	}
	if ch, err := tb.setTag("v1", b, ConflictOverwrite); err != nil || ch.Old != tA || idx.Manifests[0].Digest != tB || len(idx.Manifests) != 1 {
		t.Fatalf("overwrite: %+v, %v, %v", ch, err, idx.Manifests)
	}
	if _, err := tb.setTag("bad tag", a, ConflictFail); !errors.Is(err, ErrInvalidTag) {
		t.Fatalf("invalid tag: %v", err)
	}
	tb.addUntagged(ocispec.Descriptor{Digest: tA, Size: 1, Annotations: map[string]string{ocispec.AnnotationRefName: "sneaky"}})
	tb.addUntagged(a)
	if len(idx.Manifests) != 2 || len(Tags(idx)) != 1 {
		t.Fatalf("AddUntagged: %+v", idx.Manifests)
	}
	if _, ok := tb.removeTag("v1"); !ok || len(Tags(idx)) != 0 {
		t.Fatalf("RemoveTag: %+v", idx.Manifests)
	}
	for _, p := range []string{"fail", "skip", "overwrite"} {
		if _, err := ParseConflict(p); err != nil {
			t.Errorf("ParseConflict(%q): %v", p, err)
		}
	}
	if _, err := ParseConflict("last-wins"); err == nil {
		t.Error("ParseConflict accepted last-wins")
	}
}
