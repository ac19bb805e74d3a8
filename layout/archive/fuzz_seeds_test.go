package archive

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// importSeeds are FuzzImport's seeds: small real exports made by
// oci-pack (plain, gzip, zstd; one whose blobs the template holds; one
// with a referrer; one whose v0 conflicts), truncations, and
// RELIABILITY's A-1…A-13 shapes built on the small export.
func importSeeds(tb testing.TB, tmpl string) map[string][]byte {
	src := filepath.Join(tb.TempDir(), "src")
	l := openLayout(tb, src)
	v1 := packTag(tb, l, "v1", 1, map[string]int{"a.bin": 64, "b.bin": 40}, nil)
	l.Close()
	plain := exportBytes(tb, src, ExportOptions{})
	seeds := map[string][]byte{
		"export":      plain,
		"export-gzip": compressed(tb, plain, compress.Gzip),
		"export-zstd": compressed(tb, plain, compress.Zstd),
		"template":    exportBytes(tb, tmpl, ExportOptions{}),
		"empty":       nil,
		"zeros":       make([]byte, 2*blockSize),
		"garbage":     []byte("garbage"),
	}
	l = openLayout(tb, src)
	packTag(tb, l, "", 2, map[string]int{"sig": 20}, &v1)
	l.Close()
	seeds["with-referrer"] = exportBytes(tb, src, ExportOptions{})
	other := filepath.Join(tb.TempDir(), "other")
	l = openLayout(tb, other)
	packTag(tb, l, "v0", 3, map[string]int{"new.bin": 50}, nil)
	l.Close()
	seeds["tag-conflict"] = exportBytes(tb, other, ExportOptions{})

	hdrs := headerOffsets(tb, plain)
	for i, n := range []int{hdrs[1], hdrs[len(hdrs)/2], hdrs[len(hdrs)-2], hdrs[len(hdrs)-1], len(plain) - 777, hdrs[2] + 100} {
		seeds[fmt.Sprintf("a9-a10-cut-%d", i)] = plain[:n]
	}
	gz := seeds["export-gzip"]
	seeds["a10-gzip-cut"] = gz[:len(gz)*7/10]
	seeds["trailing-garbage"] = append(append([]byte{}, plain...), "garbage"...)

	ms := members(tb, plain)
	var m ocispec.Manifest
	idx, err := layout.ParseIndex(ms[find(tb, ms, layout.IndexFile)].body)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(ms[find(tb, ms, blobEntry(idx.Manifests[0].Digest))].body, &m); err != nil {
		tb.Fatal(err)
	}
	layer := blobEntry(m.Layers[0].Digest)
	body := ms[find(tb, ms, layer)].body
	add := func(name string, ms []member) { seeds[name] = build(tb, ms) }
	for i, n := range []string{"../../x", "/etc/x", "blobs/sha256/../../../x", "./../x", `C:\x`, `..\x`} {
		add(fmt.Sprintf("a1-%d", i), inserted(ms, regular(n, []byte("pwned"))))
	}
	add("a2-index-symlink", replaced(tb, ms, layout.IndexFile, member{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: layout.IndexFile, Linkname: "/etc/passwd"}}))
	add("a2-blob-hardlink", replaced(tb, ms, layer, member{hdr: tar.Header{Typeflag: tar.TypeLink, Name: layer, Linkname: "../../etc/shadow"}}))
	add("a2-blob-chardev", replaced(tb, ms, layer, member{hdr: tar.Header{Typeflag: tar.TypeChar, Name: layer, Devmajor: 1, Devminor: 3}}))
	add("a2-layout-fifo", replaced(tb, ms, layout.LayoutFile, member{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: layout.LayoutFile}}))
	add("a2-pax-global", inserted(ms, member{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "x"}}}))
	suid := replaced(tb, ms, layer, regular(layer, body))
	suid[find(tb, suid, layer)].hdr.Mode = 0o4755
	add("a2-setuid", suid)
	add("a3-appended", replaced(tb, ms, layer, regular(layer, append(append([]byte{}, body...), 'x'))))
	add("a3-prepended", replaced(tb, ms, layer, regular(layer, append([]byte{' '}, body...))))
	for name, n := range map[string]int64{"a4-plus-one": m.Layers[0].Size + 1, "a4-zero": 0, "a4-negative": -1, "a4-huge": 1 << 62} {
		add(name, withManifest(tb, ms, func(m *ocispec.Manifest) { m.Layers[0].Size = n }))
	}
	hexs := m.Layers[0].Digest.Encoded()
	for i, d := range []string{"sha256:../../etc/passwd", "sha256:" + strings.ToUpper(hexs), "sha256:" + hexs[:63], "sha256:" + hexs + "\n", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:"} {
		add(fmt.Sprintf("a5-index-%d", i), withIndex(tb, ms, fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":10}]}`, d)))
	}
	add("a5-manifest-layer", withManifest(tb, ms, func(m *ocispec.Manifest) { m.Layers[0].Digest = "sha256:../../etc/passwd" }))
	add("a5-name-upper", inserted(ms, regular("blobs/sha256/"+strings.ToUpper(hexs), []byte("x"))))
	add("a5-name-tmp", inserted(ms, regular("blobs/sha256/x.tmp", []byte("x"))))
	good := string(ms[find(tb, ms, layout.IndexFile)].body)
	entries := good[strings.Index(good, `"manifests":`)+len(`"manifests":`) : len(good)-1]
	for name, doc := range map[string]string{
		"a8-duplicate-key": `{"schemaVersion":2,"manifests":` + entries + `,"manifests":[]}`,
		"a8-case-variant":  `{"schemaVersion":2,"Manifests":[],"manifests":` + entries + `}`,
		"a8-trailing":      good + `{"manifests":[]}`,
		"a8-bom":           "\xef\xbb\xbf" + good,
		"a8-surrogate":     `{"schemaVersion":2,"manifests":` + entries + `,"annotations":{"x":"\ud800"}}`,
		"a12-duplicate":    `{"schemaVersion":2,"manifests":[` + entries[1:len(entries)-1] + "," + strings.Replace(entries[1:len(entries)-1], idx.Manifests[0].Digest.String(), ocispec.DescriptorEmptyJSON.Digest.String(), 1) + `]}`,
	} {
		add(name, withIndex(tb, ms, doc))
	}
	for i, tag := range []string{"../../etc/cron.d/x", "a/b/../c", "", "a\x00b", "a\nb", "-lead"} {
		q, _ := json.Marshal(tag)
		add(fmt.Sprintf("a13-%d", i), withIndex(tb, ms, strings.Replace(good, `"v1"`, string(q), 1)))
	}
	add("a11-index-dot-slash", append(append([]member{}, ms...), regular("./index.json", []byte(`{"schemaVersion":2,"manifests":[]}`))))
	add("a11-double-slash", inserted(ms, regular("blobs//sha256/"+hexs, body)))
	add("shape-readme", inserted(ms, regular("README.md", []byte("hi"))))
	add("shape-ingest", inserted(ms, dirMember("ingest/"), regular("ingest/partial", []byte("xx")), dirMember(".oci-pack/"), regular(".oci-pack/tmp/x", []byte("y"))))
	add("shape-no-index", ms[:len(ms)-1])
	add("shape-no-oci-layout", ms[1:])
	return seeds
}

func dirMember(name string) member { return member{hdr: dirHeader(name)} }

// importScripts are FuzzImportEntries' seeds: a good artifact (config
// the template holds, a layer, a manifest, index.json tagging it) and
// variants — other tools' shapes, a nested index, a referrer, a delta
// archive relying on the template's blobs — and A-1…A-13 shapes.
func importScripts(tb testing.TB, tmpl string) map[string]string {
	lines := []string{
		`0|oci-layout||{"imageLayoutVersion":"1.0.0"}`,
		"5|blobs/||",
		"5|blobs/sha256/||",
		"0|blobs/sha256/{h}||{}",
		"0|blobs/sha256/{h}||hello, weights",
		"0|blobs/sha256/{h}||" + fuzzManifest,
		"0|index.json||" + strings.Replace(fuzzIndex, "TAG", "v1", 1),
	}
	script := func(ls ...string) string { return strings.Join(ls, "\n") }
	with := func(i int, line string) string {
		ls := append([]string{}, lines...)
		ls[i] = line
		return script(ls...)
	}
	plus := func(extra ...string) string { return script(append(append([]string{}, lines...), extra...)...) }
	tagged := func(tag string) string {
		q, _ := json.Marshal(tag)
		return with(6, "0|index.json||"+strings.Replace(fuzzIndex, `"TAG"`, string(q), 1))
	}
	s := map[string]string{
		"good":            script(lines...),
		"tag-conflict":    tagged("v0"),
		"no-dir-entries":  script(lines[0], lines[3], lines[4], lines[5], lines[6]),
		"dot-slash":       strings.ReplaceAll(script(lines...), "|blobs/", "|./blobs/"),
		"scratch-dirs":    plus("5|ingest/||", "0|ingest/partial||xx", "0|.oci-pack/tmp/x||y"),
		"missing-layer":   with(4, "0|ingest/layer||hello, weights"),
		"size-mismatch":   with(5, "0|blobs/sha256/{h}||"+strings.Replace(fuzzManifest, `"size":{s4}`, `"size":999`, 1)),
		"content-differs": with(4, "0|blobs/sha256/{h0}||hello, weights"),
		"nested-index": plus(
			`0|blobs/sha256/{h}||{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h5}","size":{s5}}]}`,
			`0|index.json||{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{h7}","size":{s7},"annotations":{"org.opencontainers.image.ref.name":"multi"}}]}`),
		"referrer": plus(
			`0|blobs/sha256/{h}||{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:{h3}","size":{s3}},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h5}","size":{s5}}}`,
			`0|index.json||{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h5}","size":{s5},"annotations":{"org.opencontainers.image.ref.name":"v1"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h7}","size":{s7}}]}`),
		"i10-both-kinds":  with(5, "0|blobs/sha256/{h}||"+strings.Replace(fuzzManifest, `"layers":`, `"manifests":[],"layers":`, 1)),
		"a1-traversal":    plus("0|../../x||pwned", "0|/etc/x||pwned", "0|blobs/sha256/../../../x||pwned"),
		"a2-index-link":   with(6, "2|index.json|/etc/passwd|"),
		"a2-blob-link":    with(4, "1|blobs/sha256/{h4}|../../etc/shadow|"),
		"a2-fifo":         with(0, "6|oci-layout||"),
		"a2-chardev":      with(4, "3|blobs/sha256/{h3}||"),
		"a2-setuid":       with(4, "04755|blobs/sha256/{h}||hello, weights"),
		"a5-upper":        plus("0|blobs/sha256/" + strings.ToUpper(digest.FromString("x").Encoded()) + "||x"),
		"a5-sha512":       plus("0|blobs/sha512/{h}||x"),
		"a5-md5":          plus("0|blobs/md5/d41d8cd98f00b204e9800998ecf8427e||"),
		"a8-duplicate":    with(6, `0|index.json||{"schemaVersion":2,"manifests":[],"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h5}","size":{s5}}]}`),
		"a11-dot-index":   plus(`0|./index.json||{"schemaVersion":2,"manifests":[]}`),
		"a11-blob-twice":  plus("0|blobs/sha256/{h4}||hello, weightz"),
		"a12-two-digests": with(6, `0|index.json||{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h5}","size":{s5},"annotations":{"org.opencontainers.image.ref.name":"v1"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{h3}","size":{s3},"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`),
		"schema-no-mt":    with(6, "0|index.json||"+strings.Replace(strings.Replace(fuzzIndex, "TAG", "v1", 1), `"mediaType":"application/vnd.oci.image.manifest.v1+json",`, "", 1)),
		"schema-layer-mt": with(5, "0|blobs/sha256/{h}||"+strings.Replace(fuzzManifest, `"application/octet-stream"`, `"x"`, 1)),
		"pax-global":      plus("g|pax_global_header||"),
		"docker-save":     plus("0|manifest.json||[]"),
	}
	for i, tag := range []string{"../../etc/cron.d/x", "a/b/../c", "", "a\x00b", "a\nb", "-lead", strings.Repeat("a", 300)} {
		s[fmt.Sprintf("a13-%d", i)] = tagged(tag)
	}
	held := string(readFile(tb, filepath.Join(tmpl, layout.IndexFile)))
	s["delta"] = script(lines[0], "0|index.json||"+strings.Replace(held, `"v0"`, `"again"`, 1))
	return s
}
