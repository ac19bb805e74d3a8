package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// twoArchives exports two layouts: the first tags v1 and common, the
// second v2 and common, common on a different artifact in each.
func twoArchives(t *testing.T) (a, b []byte, common [2]ocispec.Descriptor) {
	t.Helper()
	var out [2][]byte
	for i, tag := range []string{"v1", "v2"} {
		dir := filepath.Join(t.TempDir(), tag)
		l := openLayout(t, dir)
		packTag(t, l, tag, uint64(10+i), map[string]int{"x.bin": 2000 + i}, nil)
		common[i] = packTag(t, l, "common", uint64(20+i), map[string]int{"c.bin": 100 + i}, nil)
		l.Close()
		out[i] = exportBytes(t, dir, ExportOptions{})
	}
	return out[0], out[1], common
}

func importBoth(t *testing.T, dir string, a, b []byte, policy layout.Conflict) (*ImportResult, error) {
	t.Helper()
	l := openLayout(t, dir)
	defer l.Close()
	return ImportAll(ctx, l, []Source{{Name: "a.tar", R: bytes.NewReader(a)}, {Name: "b.tar", R: bytes.NewReader(b)}}, ImportOptions{Conflict: policy})
}

// Several archives: all their tags land in one update; a tag the two set
// differently follows --tag-conflict as it would against the layout.
func TestImportAll(t *testing.T) {
	a, b, common := twoArchives(t)
	for _, tc := range []struct {
		policy layout.Conflict
		want   ocispec.Descriptor // common afterwards; zero: the import fails
	}{
		{layout.ConflictFail, ocispec.Descriptor{}},
		{layout.ConflictSkip, common[0]},
		{layout.ConflictOverwrite, common[1]},
	} {
		dir := filepath.Join(t.TempDir(), "L")
		res, err := importBoth(t, dir, a, b, tc.policy)
		idx := readIndexFile(t, dir)
		if tc.want.Digest == "" {
			if !errors.Is(err, layout.ErrTagExists) {
				t.Fatalf("policy %v: error %v, want ErrTagExists", tc.policy, err)
			}
			if len(idx.Manifests) != 0 {
				t.Errorf("policy %v: the failed import changed index.json: %d entries", tc.policy, len(idx.Manifests))
			}
			continue
		}
		if err != nil {
			t.Fatalf("policy %v: %v", tc.policy, err)
		}
		got := map[string]string{}
		for _, d := range idx.Manifests {
			got[d.Annotations[ocispec.AnnotationRefName]] = d.Digest.String()
		}
		if len(got) != 3 || got["v1"] == "" || got["v2"] == "" || got["common"] != tc.want.Digest.String() {
			t.Errorf("policy %v: tags %v, want v1, v2 and common at %s", tc.policy, got, tc.want.Digest)
		}
		if res.Imported == 0 {
			t.Errorf("policy %v: result counts no imported blobs", tc.policy)
		}
		if err := layouttest.Validate(dir); err != nil {
			t.Errorf("policy %v: %v", tc.policy, err)
		}
	}
}

func readIndexFile(t *testing.T, dir string) *ocispec.Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ParseIndex(b)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// Export refuses a document import would refuse (a referrer failing the
// image-spec schema), before writing anything: the far site must not find
// out after the air gap.
func TestExportRefusesSchemaInvalidDocument(t *testing.T) {
	dir := goodLayout(t)
	l := openLayout(t, dir)
	defer l.Close()
	v1, err := l.Resolve(ctx, layout.Ref{Layout: dir, Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := l.Blobs().Put(ctx, bytes.NewReader([]byte("{}")), ocispec.Descriptor{MediaType: ocispec.MediaTypeEmptyJSON})
	if err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/x\x1b[2J", Config: empty.Descriptor, Layers: []ocispec.Descriptor{empty.Descriptor}, Subject: &v1}
	m.SchemaVersion = 2
	b, _ := json.Marshal(m)
	ref, err := l.Blobs().Put(ctx, bytes.NewReader(b), ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error { return e.AddUntagged(ref.Descriptor) }); err != nil {
		t.Fatal(err)
	}
	for _, refs := range [][]layout.Ref{nil, {{Layout: dir, Tag: "v1"}}} {
		var out bytes.Buffer
		_, err := Export(ctx, l, &out, ExportOptions{Refs: refs})
		if !errors.Is(err, layout.ErrCorrupt) || !strings.Contains(err.Error(), ref.Descriptor.Digest.String()) {
			t.Errorf("export %v: %v, want ErrCorrupt naming %s", refs, err, ref.Descriptor.Digest)
		}
		if out.Len() != 0 {
			t.Errorf("export %v wrote %d bytes before failing", refs, out.Len())
		}
	}
}
