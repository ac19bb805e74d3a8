package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// goodMembers is good/'s export as members, plus the manifest it tags.
func goodMembers(t testing.TB) ([]member, ocispec.Manifest) {
	t.Helper()
	ms := members(t, exportBytes(t, goodLayout(t), ExportOptions{}))
	idx, err := layout.ParseIndex(ms[find(t, ms, "index.json")].body)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(ms[find(t, ms, blobEntry(idx.Manifests[0].Digest))].body, &m); err != nil {
		t.Fatal(err)
	}
	return ms, m
}

func blobEntry(d digest.Digest) string { return "blobs/sha256/" + d.Encoded() }

// edited returns a copy of ms with f applied.
func edited(ms []member, f func([]member) []member) []member {
	return f(append([]member(nil), ms...))
}

// withIndex replaces index.json's content.
func withIndex(t testing.TB, ms []member, body string) []member {
	return edited(ms, func(ms []member) []member {
		ms[find(t, ms, "index.json")].body = []byte(body)
		return ms
	})
}

// withManifest edits the manifest, stores it under its new digest and
// points index.json (tag v1) at it, so every digest stays valid.
func withManifest(t testing.TB, ms []member, edit func(*ocispec.Manifest)) []member {
	return edited(ms, func(ms []member) []member {
		ix := find(t, ms, "index.json")
		var idx ocispec.Index
		json.Unmarshal(ms[ix].body, &idx)
		mi := find(t, ms, blobEntry(idx.Manifests[0].Digest))
		var m ocispec.Manifest
		json.Unmarshal(ms[mi].body, &m)
		edit(&m)
		b, _ := json.Marshal(m)
		d := digest.FromBytes(b)
		ms[mi] = regular(blobEntry(d), b)
		idx.Manifests[0].Digest, idx.Manifests[0].Size = d, int64(len(b))
		ms[ix].body, _ = json.Marshal(idx)
		return ms
	})
}

// inserted puts extra members right after oci-layout.
func inserted(ms []member, extra ...member) []member {
	out := append([]member{ms[0]}, extra...)
	return append(out, ms[1:]...)
}

// replaced swaps the member named name for m.
func replaced(t testing.TB, ms []member, name string, m member) []member {
	return edited(ms, func(ms []member) []member {
		ms[find(t, ms, name)] = m
		return ms
	})
}

type hostileCase struct {
	name    string
	archive []byte
	class   error    // errors.Is target
	says    []string // substrings of the message
	opts    ImportOptions
}

func runHostile(t *testing.T, cases []hostileCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := newTarget(t)
			_, err := importInto(t, tg.dir, bytes.NewReader(c.archive), c.opts)
			if err == nil {
				t.Fatal("import succeeded")
			}
			if !errors.Is(err, c.class) {
				t.Errorf("error %q is not %v", err, c.class)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if errors.Is(err, layout.ErrInvalidTag) {
				t.Errorf("error %q would be classed as the caller's usage error", err)
			}
			tg.unchanged(t)
		})
	}
}

// TestImportA1PathTraversal: RELIABILITY A-1.
func TestImportA1PathTraversal(t *testing.T) {
	ms, _ := goodMembers(t)
	var cases []hostileCase
	for _, n := range []string{"../../x", "/etc/x", "blobs/sha256/../../../x", "./../x", `C:\x`, `..\x`, "blobs/sha256/../sha256/x"} {
		cases = append(cases, hostileCase{name: n, archive: build(t, inserted(ms, regular(n, []byte("pwned")))), class: ErrInvalid, says: []string{fmt.Sprintf("%q", n)}})
	}
	runHostile(t, cases)
}

// TestImportA2LinksDevices: RELIABILITY A-2.
func TestImportA2LinksDevices(t *testing.T) {
	ms, m := goodMembers(t)
	layer := blobEntry(m.Layers[0].Digest)
	runHostile(t, []hostileCase{
		{"index-symlink", build(t, replaced(t, ms, "index.json", member{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "index.json", Linkname: "/etc/passwd"}})), ErrInvalid, []string{`unsupported entry type symlink for "index.json"`}, ImportOptions{}},
		{"blob-hardlink", build(t, replaced(t, ms, layer, member{hdr: tar.Header{Typeflag: tar.TypeLink, Name: layer, Linkname: "../../etc/shadow"}})), ErrInvalid, []string{"hardlink", layer}, ImportOptions{}},
		{"blob-chardev", build(t, replaced(t, ms, layer, member{hdr: tar.Header{Typeflag: tar.TypeChar, Name: layer, Devmajor: 1, Devminor: 3}})), ErrInvalid, []string{"character device", layer}, ImportOptions{}},
		{"oci-layout-fifo", build(t, replaced(t, ms, "oci-layout", member{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "oci-layout"}})), ErrInvalid, []string{`FIFO for "oci-layout"`}, ImportOptions{}},
		{"blobs-dir-as-file", build(t, replaced(t, ms, "blobs/", regular("blobs", []byte("x")))), ErrInvalid, []string{`regular file for "blobs"`}, ImportOptions{}},
		{"pax-global-header", build(t, inserted(ms, member{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "x"}}})), ErrInvalid, []string{"PAX global header"}, ImportOptions{}},
	})
	t.Run("setuid-blob", func(t *testing.T) {
		tg := newTarget(t)
		i := find(t, ms, layer)
		suid := replaced(t, ms, layer, ms[i])
		suid[i].hdr.Mode = 0o4755
		if _, err := importInto(t, tg.dir, bytes.NewReader(build(t, suid)), ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(tg.dir, layer))
		if err != nil || fi.Mode() != 0o644 {
			t.Fatalf("imported blob: %v %v, want mode 0644", fi.Mode(), err)
		}
	})
}

// TestImportA3ContentMismatch: RELIABILITY A-3, with umoci's variants.
func TestImportA3ContentMismatch(t *testing.T) {
	ms, m := goodMembers(t)
	layer := blobEntry(m.Layers[1].Digest)
	i := find(t, ms, layer)
	var cases []hostileCase
	for name, body := range map[string][]byte{
		"appended-x":   append(append([]byte{}, ms[i].body...), 'x'),
		"prepended-sp": append([]byte{' '}, ms[i].body...),
		"appended-nul": append(append([]byte{}, ms[i].body...), 0),
		"same-size":    append([]byte{ms[i].body[0] ^ 1}, ms[i].body[1:]...),
	} {
		cases = append(cases, hostileCase{name, build(t, replaced(t, ms, layer, regular(layer, body))), cas.ErrDigestMismatch, []string{fmt.Sprintf("%q", layer), "content is sha256:", "expected " + m.Layers[1].Digest.String()}, ImportOptions{}})
	}
	runHostile(t, cases)
}

// TestImportA4DescriptorSizes: RELIABILITY A-4.
func TestImportA4DescriptorSizes(t *testing.T) {
	ms, m := goodMembers(t)
	size := m.Layers[1].Size
	setSize := func(n int64) func(*ocispec.Manifest) {
		return func(m *ocispec.Manifest) { m.Layers[1].Size = n }
	}
	runHostile(t, []hostileCase{
		{"plus-one", build(t, withManifest(t, ms, setSize(size+1))), cas.ErrSizeMismatch, []string{fmt.Sprintf("layer 1 of v1 %s: size %d in descriptor, blob is %d", m.Layers[1].Digest, size+1, size)}, ImportOptions{}},
		{"zero", build(t, withManifest(t, ms, setSize(0))), cas.ErrSizeMismatch, []string{"size 0 in descriptor"}, ImportOptions{}},
		{"huge", build(t, withManifest(t, ms, setSize(1<<62))), cas.ErrSizeMismatch, []string{fmt.Sprintf("size %d in descriptor", int64(1<<62))}, ImportOptions{}},
		{"negative", build(t, withManifest(t, ms, setSize(-1))), layout.ErrCorrupt, []string{"invalid descriptor size -1"}, ImportOptions{}},
	})
}

// TestImportA5BadDigests: RELIABILITY A-5, in index.json, in a manifest
// and as entry names.
func TestImportA5BadDigests(t *testing.T) {
	ms, m := goodMembers(t)
	hexs := m.Layers[0].Digest.Encoded()
	idx := func(d string) string {
		return fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":10}]}`, d)
	}
	var cases []hostileCase
	for _, d := range []string{"sha256:../../etc/passwd", "sha256:" + strings.ToUpper(hexs), "sha256:" + hexs[:63], "sha256:" + hexs + "0", "sha256:" + hexs + "\n", "SHA256:" + hexs, "sha256+b64u:" + hexs, "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:"} {
		cases = append(cases, hostileCase{"index " + d, build(t, withIndex(t, ms, idx(d))), ErrInvalid, []string{fmt.Sprintf("invalid digest %q", d)}, ImportOptions{}})
	}
	cases = append(cases,
		hostileCase{"manifest-layer", build(t, withManifest(t, ms, func(m *ocispec.Manifest) { m.Layers[0].Digest = "sha256:../../etc/passwd" })), layout.ErrCorrupt, []string{`invalid digest "sha256:../../etc/passwd": invalid format`}, ImportOptions{}},
		hostileCase{"name-uppercase", build(t, inserted(ms, regular("blobs/sha256/"+strings.ToUpper(hexs), []byte("x")))), ErrInvalid, []string{`invalid digest "sha256:` + strings.ToUpper(hexs) + `"`}, ImportOptions{}},
		hostileCase{"name-tmp", build(t, inserted(ms, regular("blobs/sha256/x.tmp", []byte("x")))), ErrInvalid, []string{`"blobs/sha256/x.tmp"`, "invalid digest"}, ImportOptions{}},
		hostileCase{"name-md5", build(t, inserted(ms, regular("blobs/md5/d41d8cd98f00b204e9800998ecf8427e", nil))), ErrInvalid, []string{"unsupported digest algorithm"}, ImportOptions{}},
	)
	runHostile(t, cases)
}

// TestImportA8StrictJSON: RELIABILITY A-8 — index.json from an archive is
// judged as strictly as from a directory.
func TestImportA8StrictJSON(t *testing.T) {
	ms, _ := goodMembers(t)
	good := string(ms[find(t, ms, "index.json")].body)
	entries := good[strings.Index(good, `"manifests":`)+len(`"manifests":`) : len(good)-1]
	var cases []hostileCase
	for name, body := range map[string]string{
		"duplicate-key":  `{"schemaVersion":2,"manifests":` + entries + `,"manifests":[]}`,
		"case-variant":   `{"schemaVersion":2,"Manifests":[],"manifests":` + entries + `}`,
		"trailing-data":  good + `{"manifests":[]}`,
		"bom":            "\xef\xbb\xbf" + good,
		"lone-surrogate": `{"schemaVersion":2,"manifests":` + entries + `,"annotations":{"x":"\ud800"}}`,
		"invalid-utf8":   `{"schemaVersion":2,"manifests":` + entries + `,"annotations":{"x":"` + "\xff" + `"}}`,
		"truncated":      good[:100],
	} {
		cases = append(cases, hostileCase{name, build(t, withIndex(t, ms, body)), ErrInvalid, []string{`"index.json"`, "invalid JSON", "offset"}, ImportOptions{}})
	}
	cases = append(cases, hostileCase{"oversize", build(t, withIndex(t, ms, good+strings.Repeat(" ", strictjson.MaxDocument))), ErrInvalid, []string{`"index.json"`, "byte limit"}, ImportOptions{}})
	runHostile(t, cases)
}

// TestImportA11Duplicates: RELIABILITY A-11.
func TestImportA11Duplicates(t *testing.T) {
	ms, m := goodMembers(t)
	layer := blobEntry(m.Layers[0].Digest)
	body := ms[find(t, ms, layer)].body
	runHostile(t, []hostileCase{
		{"index-dot-slash", build(t, append(append([]member{}, ms...), regular("./index.json", []byte(`{"schemaVersion":2,"manifests":[]}`)))), ErrInvalid, []string{`duplicate archive entry "./index.json" (also "index.json")`}, ImportOptions{}},
		{"blob-twice", build(t, append(append([]member{}, ms[:len(ms)-1]...), regular(layer, append([]byte("x"), body[1:]...)), ms[len(ms)-1])), ErrInvalid, []string{fmt.Sprintf("duplicate archive entry %q", layer)}, ImportOptions{}},
		{"double-slash", build(t, inserted(ms, regular("blobs//sha256/"+m.Layers[0].Digest.Encoded(), body))), ErrInvalid, []string{"duplicate archive entry", "blobs//sha256/"}, ImportOptions{}},
	})
}

// TestImportA12A13Tags: RELIABILITY A-12 (inside the archive; the conflict
// with the layout is TestImportTagConflict) and A-13.
func TestImportA12A13Tags(t *testing.T) {
	ms, _ := goodMembers(t)
	good := string(ms[find(t, ms, "index.json")].body)
	var idx ocispec.Index
	json.Unmarshal([]byte(good), &idx)
	d := idx.Manifests[0]
	tagged := func(tags ...string) string {
		var list []ocispec.Descriptor
		for i, tag := range tags {
			e := ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, Annotations: map[string]string{ocispec.AnnotationRefName: tag}}
			if i == 1 {
				e.Digest = ocispec.DescriptorEmptyJSON.Digest
				e.Size = 2
			}
			list = append(list, e)
		}
		b, _ := json.Marshal(ocispec.Index{Versioned: idx.Versioned, Manifests: list})
		return string(b)
	}
	cases := []hostileCase{{"duplicate-tag", build(t, withIndex(t, ms, tagged("v1", "v1"))), ErrInvalid, []string{fmt.Sprintf(`tag "v1" refers to both %s and %s`, d.Digest, ocispec.DescriptorEmptyJSON.Digest)}, ImportOptions{}}}
	for _, tag := range []string{"../../etc/cron.d/x", "a/b/../c", "", strings.Repeat("a", 10240), "a\x00b", "a\nb", "-lead"} {
		cases = append(cases, hostileCase{fmt.Sprintf("tag %.20q", tag), build(t, withIndex(t, ms, tagged(tag))), ErrInvalid, []string{"invalid tag", fmt.Sprintf("%.20q", tag)[:len(fmt.Sprintf("%.20q", tag))-1]}, ImportOptions{}})
	}
	runHostile(t, cases)
}

// TestImportShapeAndStructure: entries outside the layout shape, missing
// top-level files, data after the end-of-archive marker.
func TestImportShapeAndStructure(t *testing.T) {
	ms, m := goodMembers(t)
	layer := blobEntry(m.Layers[0].Digest)
	runHostile(t, []hostileCase{
		{"extra-directory", build(t, inserted(ms, member{hdr: dirHeader("legacy/")}, regular("legacy/layer.tar", []byte("x")))), ErrInvalid, []string{`"legacy/" is outside the OCI layout shape`}, ImportOptions{}},
		{"extra-nested-file", build(t, inserted(ms, regular("legacy/json", []byte("{}")))), ErrInvalid, []string{`"legacy/json" is outside the OCI layout shape`}, ImportOptions{}},
		{"extra-in-blobs", build(t, inserted(ms, regular("blobs/manifest.json", []byte("[]")))), ErrInvalid, []string{`"blobs/manifest.json"`}, ImportOptions{}},
		{"blob-subdir", build(t, inserted(ms, regular(layer+"/x", []byte("x")))), ErrInvalid, []string{"outside the OCI layout shape"}, ImportOptions{}},
		{"ingest-symlink", build(t, inserted(ms, member{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "ingest/x", Linkname: "/etc/passwd"}})), ErrInvalid, []string{`symlink for "ingest/x"`}, ImportOptions{}},
		{"outside-symlink", build(t, inserted(ms, member{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "../x", Linkname: "/etc/passwd"}})), ErrInvalid, []string{`"../x"`}, ImportOptions{}},
		{"no-index", build(t, ms[:len(ms)-1]), ErrTruncated, []string{"index.json missing: archive incomplete"}, ImportOptions{}},
		{"no-oci-layout", build(t, ms[1:]), ErrInvalid, []string{"oci-layout missing"}, ImportOptions{}},
		{"bad-oci-layout", build(t, replaced(t, ms, "oci-layout", regular("oci-layout", []byte(`{"imageLayoutVersion":"2.0.0"}`)))), ErrInvalid, []string{`imageLayoutVersion "2.0.0"`}, ImportOptions{}},
		{"trailing-garbage", append(build(t, ms), []byte("garbage")...), ErrInvalid, []string{"data after the end-of-archive marker"}, ImportOptions{}},
		{"empty-input", nil, ErrTruncated, []string{"archive ends without end-of-archive marker (truncated before the first entry"}, ImportOptions{}},
	})
}

// TestImportBudget: RELIABILITY F-52, F-53 — a blob larger than the budget
// is refused from its header, before a byte is written; bombs of zeros
// compressed to a few KB stop at the budget; the entry count is capped.
func TestImportBudget(t *testing.T) {
	ms, _ := goodMembers(t)
	zeros := make([]byte, 32<<20)
	bomb := inserted(ms, regular(blobEntry(digest.FromBytes(zeros)), zeros))
	var junk []member
	for i := range 40 {
		junk = append(junk, regular(fmt.Sprintf("ingest/junk-%d", i), zeros[:1<<20]))
	}
	zstdBomb := compressed(t, build(t, bomb), compress.Zstd)
	if len(zstdBomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes", len(zstdBomb))
	}
	runHostile(t, []hostileCase{
		{"declared-size", build(t, bomb), ErrTooLarge, []string{fmt.Sprintf("declares %d bytes, more than the", 32<<20), "budget of 8388608 bytes given"}, ImportOptions{MaxBytes: 8 << 20}},
		{"zstd-bomb", zstdBomb, ErrTooLarge, []string{"declares"}, ImportOptions{MaxBytes: 8 << 20}},
		{"gzip-scratch-bomb", compressed(t, build(t, inserted(ms, junk...)), compress.Gzip), ErrTooLarge, []string{"archive expands beyond limit"}, ImportOptions{MaxBytes: 8 << 20}},
	})
	t.Run("entry-count", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			for i := 0; i <= MaxEntries; i++ {
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: fmt.Sprintf("ingest/%d/", i)}); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.CloseWithError(tw.Close())
		}()
		tg := newTarget(t)
		_, err := importInto(t, tg.dir, pr, ImportOptions{})
		pr.Close()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("too many archive entries (> %d)", MaxEntries)) {
			t.Fatalf("err = %v", err)
		}
		tg.unchanged(t)
	})
}

func compressed(t testing.TB, b []byte, alg compress.Algorithm) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := compress.NewWriter(&buf, alg, compress.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
