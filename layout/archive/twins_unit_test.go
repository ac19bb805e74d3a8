package archive

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestCutTwinDocs: recipes are cut, in order, into documents whose bound
// stays within maxTwinsDoc, each holding at least one recipe.
func TestCutTwinDocs(t *testing.T) {
	var list []*exportTwin
	for range 300 {
		list = append(list, &exportTwin{prefixLen: maxTwinPrefix})
	}
	docs := cutTwinDocs(list)
	n := 0
	for _, d := range docs {
		var size int64 = 128
		for _, x := range d {
			size += x.recipeSize()
		}
		if len(d) == 0 || size > maxTwinsDoc {
			t.Fatalf("document of %d recipes, bound %d", len(d), size)
		}
		n += len(d)
	}
	if n != len(list) || len(docs) < 2 {
		t.Fatalf("%d recipes in %d documents, want all %d in several", n, len(docs), len(list))
	}
	// The bound holds for real JSON: the largest numbers and a full prefix.
	r := twinRecipe{Digest: digest.FromString("a"), Size: 1<<62 + 1, Of: twinOf{Digest: digest.FromString("b"), Size: 1<<62 - 1}, Prefix: make([]byte, maxTwinPrefix), Suffix: maxTwinSuffix}
	b, _ := json.Marshal(r)
	if tw := (&exportTwin{prefixLen: maxTwinPrefix}); int64(len(b))+1 > tw.recipeSize() {
		t.Errorf("a recipe encodes to %d bytes, bound %d", len(b)+1, tw.recipeSize())
	}
}

// TestDecodeTwinsRefuses: recipes that cannot be right are refused
// before any byte is written.
func TestDecodeTwinsRefuses(t *testing.T) {
	good := twinRecipe{Digest: digest.FromString("t"), Of: twinOf{Digest: digest.FromString("r"), Size: 10}, Prefix: make([]byte, 1024), Suffix: 1526}
	good.Size = 1024 + 10 + 1526
	enc := func(mutate func(*twinRecipe)) []byte {
		r := good
		mutate(&r)
		b, _ := json.Marshal(twinsDoc{MediaType: TwinsMediaType, Twins: []twinRecipe{r}})
		return b
	}
	if _, err := decodeTwins(enc(func(*twinRecipe) {})); err != nil {
		t.Fatalf("good recipe: %v", err)
	}
	for name, m := range map[string]func(*twinRecipe){
		"size":         func(r *twinRecipe) { r.Size++ },
		"unaligned":    func(r *twinRecipe) { r.Prefix = make([]byte, 1000); r.Size = 1000 + 10 + 1526 },
		"huge prefix":  func(r *twinRecipe) { r.Prefix = make([]byte, maxTwinPrefix+blockSize) },
		"huge suffix":  func(r *twinRecipe) { r.Suffix = maxTwinSuffix + 1 },
		"negative raw": func(r *twinRecipe) { r.Of.Size = -1 },
		"bad digest":   func(r *twinRecipe) { r.Digest = "sha256:abc" },
		"own twin":     func(r *twinRecipe) { r.Of.Digest = r.Digest },
		"empty prefix": func(r *twinRecipe) { r.Prefix = nil; r.Size = 10 + 1526 },
	} {
		if _, err := decodeTwins(enc(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, bad := range []string{`{"mediaType":"x","twins":[]}`, `{"mediaType":"` + TwinsMediaType + `","twins":[],"twins":[]}`, `{"mediaType":"` + TwinsMediaType + `","Twins":[]}`} {
		if _, err := decodeTwins([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	idx := &ocispec.Index{Annotations: map[string]string{AnnotationTwins: digest.FromString("a").String() + "," + digest.FromString("b").String()}}
	if ds, err := twinDocDigests(idx); err != nil || len(ds) != 2 {
		t.Errorf("two documents: %v %v", ds, err)
	}
	for _, v := range []string{"sha256:../../x", digest.FromString("a").String() + ",", strings.Repeat(digest.FromString("a").String()+",", maxTwinsDocs) + digest.FromString("a").String()} {
		if _, err := twinDocDigests(&ocispec.Index{Annotations: map[string]string{AnnotationTwins: v}}); err == nil {
			t.Errorf("annotation %.80q: accepted", v)
		}
	}
}
