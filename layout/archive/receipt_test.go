package archive

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
)

func TestReceipt(t *testing.T) {
	src, v1, v2, _ := twoTags(t)
	l := openLayout(t, src)
	defer l.Close()
	r, err := MakeReceipt(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	// v1, v2, v3 and v1's referrers-tag index (twoTags attaches to v1).
	if r.Tags["v1"] != v1.Digest || r.Tags["v2"] != v2.Digest || r.Tags[layout.ReferrersTag(v1.Digest)] == "" || len(r.Tags) != 4 {
		t.Errorf("tags %v", r.Tags)
	}
	if got, want := len(r.Blobs), len(blobSet(t, src)); got != want {
		t.Errorf("%d blobs listed, layout holds %d", got, want)
	}
	var a, b bytes.Buffer
	r.Encode(&a)
	r2, _ := MakeReceipt(ctx, l)
	r2.Encode(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || !strings.HasPrefix(a.String(), "{\n  \"blobs\": [\n    \"sha256:") {
		t.Errorf("receipt not stable or not in the documented shape:\n%s", a.String())
	}
	back, err := ReadReceipt(&a)
	if err != nil || len(back.Blobs) != len(r.Blobs) || back.Tags["v1"] != v1.Digest {
		t.Fatalf("read back: %v %+v", err, back)
	}
	for i := 1; i < len(back.Blobs); i++ {
		if back.Blobs[i-1] >= back.Blobs[i] {
			t.Errorf("blobs not sorted at %d", i)
		}
	}
}

func TestReadReceiptRejects(t *testing.T) {
	for body, class := range map[string]error{
		`{"blobs":["sha256:../../etc/passwd"],"tags":{}}`:                       cas.ErrInvalidDigest,
		`{"blobs":[],"tags":{"../x":"sha256:` + strings.Repeat("a", 64) + `"}}`: strictjson.ErrInvalid,
		`{"blobs":[],"blobs":[],"tags":{}}`:                                     strictjson.ErrInvalid,
		`{"blobs":[]}{}`:                                                        strictjson.ErrInvalid,
	} {
		if _, err := ReadReceipt(strings.NewReader(body)); !errors.Is(err, class) {
			t.Errorf("%s: err = %v, want %v", body, err, class)
		}
	}
}

// TestDeltaExport: the connected site exports v2 minus what the offline
// site's receipt lists; the delta imports there, and fails anywhere else
// naming every blob it lacks, with index.json unchanged.
func TestDeltaExport(t *testing.T) {
	src, _, v2, _ := twoTags(t)
	site := newTarget(t)
	if _, err := importInto(t, site.dir, bytes.NewReader(exportBytes(t, src, ExportOptions{Refs: []layout.Ref{{Layout: src, Tag: "v1"}}})), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sl := openLayout(t, site.dir)
	receipt, err := MakeReceipt(ctx, sl)
	sl.Close()
	if err != nil {
		t.Fatal(err)
	}
	full := exportBytes(t, src, ExportOptions{Refs: []layout.Ref{{Layout: src, Tag: "v2"}}})
	ro := openLayout(t, src)
	var delta bytes.Buffer
	res, err := Export(ctx, ro, &delta, ExportOptions{Refs: []layout.Ref{{Layout: src, Tag: "v2"}}, Exclude: receipt.Set()})
	doc, _ := ro.ReadDocument(ctx, v2)
	ro.Close()
	if err != nil {
		t.Fatal(err)
	}
	// v2 shares shared.bin and the empty config with v1: both left out.
	var excluded []digest.Digest
	for _, c := range doc.Children() {
		if receipt.Set()[c.Digest] {
			excluded = append(excluded, c.Digest)
		}
	}
	if res.Excluded != len(excluded) || res.Excluded != 2 || delta.Len() >= len(full)-150_000 {
		t.Fatalf("excluded %d blobs (%d bytes of archive, full %d), want %v left out", res.Excluded, delta.Len(), len(full), excluded)
	}
	ms := members(t, delta.Bytes())
	if find(t, ms, blobEntry(v2.Digest)) < 0 || ms[len(ms)-1].hdr.Name != "index.json" {
		t.Fatal("delta lacks the manifest or index.json")
	}

	empty := newEmptyTarget(t)
	_, err = importInto(t, empty.dir, bytes.NewReader(delta.Bytes()), ImportOptions{})
	if !errors.Is(err, layout.ErrMissingBlob) {
		t.Fatalf("delta into a layout without the base: err = %v, want ErrMissingBlob", err)
	}
	for _, d := range excluded {
		if !strings.Contains(err.Error(), d.String()) {
			t.Errorf("error does not name missing %s: %v", d, err)
		}
	}
	empty.unchanged(t)

	ir, err := importInto(t, site.dir, bytes.NewReader(delta.Bytes()), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ir.Tags) != 1 || ir.Tags[0].Name != "v2" || ir.Tags[0].New != v2.Digest {
		t.Errorf("tags %+v", ir.Tags)
	}
	verified(t, site.dir)
	if _, err := importInto(t, filepath.Join(t.TempDir(), "x"), bytes.NewReader(full), ImportOptions{}); err != nil {
		t.Fatalf("the full v2 export: %v", err)
	}
}
