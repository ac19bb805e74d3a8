package pack_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// chartEntry is one entry of a test chart archive.
type chartEntry struct {
	name     string
	typeflag byte // tar.TypeReg if 0
	linkname string
	data     string
	// rawName, if set, replaces name (of the same length) in the written
	// ustar header, for names the tar writer refuses to write.
	rawName string
}

// chartYAML is a valid Chart.yaml of mychart at version.
func chartYAML(version string) string {
	return "apiVersion: v2\nname: mychart\nversion: " + version + "\ndescription: test chart\n"
}

// normalChart is laid out as `helm package` writes it: files only, under
// the chart's name.
func normalChart() []chartEntry {
	return []chartEntry{
		{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")},
		{name: "mychart/values.yaml", data: "replicas: 1\n"},
		{name: "mychart/templates/deployment.yaml", data: "kind: Deployment\n"},
	}
}

// writeChartTgz writes entries as a gzip tar named name in a new temp dir
// and returns its path.
func writeChartTgz(t *testing.T, name string, entries []chartEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, chartTgz(t, entries), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// chartTgz encodes entries as a gzip tar, headers as written (the tar
// writer does not clean names).
func chartTgz(t *testing.T, entries []chartEntry) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typeflag, Linkname: e.linkname, Mode: 0o644, ModTime: time.Unix(0, 0)}
		switch h.Typeflag {
		case 0:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		case tar.TypeDir:
			h.Mode = 0o755
		case tar.TypeXGlobalHeader:
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}
		}
		if err := tw.Flush(); err != nil { // pad the previous entry first
			t.Fatal(err)
		}
		at := raw.Len()
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("header %q: %v", e.name, err)
		}
		if e.rawName != "" {
			renameUstar(t, raw.Bytes()[at:at+512], e.name, e.rawName)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// renameUstar rewrites the name field of the ustar header block hdr from
// old to name (of the same length) and fixes the header's checksum.
func renameUstar(t *testing.T, hdr []byte, old, name string) {
	t.Helper()
	if len(name) != len(old) || !bytes.HasPrefix(hdr, []byte(old+"\x00")) {
		t.Fatalf("cannot rename %q to %q in this header", old, name)
	}
	copy(hdr, name)
	copy(hdr[148:156], "        ")
	sum := 0
	for _, b := range hdr {
		sum += int(b)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// packChart packs the chart archive tgz with the helm preset into a new
// layout and returns the layout's directory, the result and the error.
func packChart(t *testing.T, tgz string, o pack.Options) (string, *pack.Result, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "L")
	o.Preset = mustPreset(t, "helm")
	o.NoCache = true
	res, err := tryPack(dir, inputs(tgz), o)
	return dir, res, err
}

// A chart archive as `helm package` writes it is stored byte for byte, and
// one with directory entries (`tar czf`) and long names is accepted too.
func TestHelmArchiveAccepted(t *testing.T) {
	long := "mychart/templates/" + strings.Repeat("n", 120) + ".yaml" // needs PAX or GNU long names
	for name, entries := range map[string][]chartEntry{
		"helm-package": normalChart(),
		"with-dirs": {
			{name: "mychart/", typeflag: tar.TypeDir},
			{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")},
			{name: "mychart/templates/", typeflag: tar.TypeDir},
			{name: "mychart/templates/a.yaml", data: "a: 1\n"},
			{name: long, data: "b: 2\n"},
			{name: "mychart/charts/", typeflag: tar.TypeDir},
			{name: "mychart/a..b", data: "legal name\n"},
		},
		"dir-after-its-files": {
			{name: "mychart/templates/a.yaml", data: "a: 1\n"},
			{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")},
			{name: "mychart/templates/", typeflag: tar.TypeDir},
		},
	} {
		t.Run(name, func(t *testing.T) {
			tgz := writeChartTgz(t, "mychart-1.0.0.tgz", entries)
			dir, res, err := packChart(t, tgz, pack.Options{})
			if err != nil {
				t.Fatalf("pack %s: %v", name, err)
			}
			want, err := os.ReadFile(tgz)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Layers) != 1 || !bytes.Equal(readBlob(t, dir, res.Layers[0].Descriptor.Digest), want) {
				t.Fatalf("the layer is not the .tgz byte for byte: %+v", res.Layers)
			}
			m := manifestOf(t, dir, res.Manifest.Digest)
			if m.Config.MediaType != pack.HelmConfigType || m.Layers[0].MediaType != pack.HelmChartLayer {
				t.Errorf("media types %s, %s", m.Config.MediaType, m.Layers[0].MediaType)
			}
			if v := m.Annotations[ocispec.AnnotationVersion]; v != "1.0.0" {
				t.Errorf("version annotation %q, want 1.0.0", v)
			}
		})
	}
}

// Every hostile or ambiguous entry is refused with a usage error naming
// the .tgz and the entry, before anything is stored or tagged.
func TestHelmArchiveHostile(t *testing.T) {
	chart := chartEntry{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")}
	cases := []struct {
		name    string
		entries []chartEntry
		bad     string // the entry the error names
		problem string // part of the error
	}{
		{"duplicate Chart.yaml", []chartEntry{chart, {name: "mychart/Chart.yaml", data: chartYAML("6.6.6")}},
			"mychart/Chart.yaml", "each path once"},
		{"duplicate file", []chartEntry{chart, {name: "mychart/a.yaml"}, {name: "mychart/a.yaml"}},
			"mychart/a.yaml", "each path once"},
		{"duplicate directory", []chartEntry{{name: "mychart/", typeflag: tar.TypeDir}, chart, {name: "mychart/", typeflag: tar.TypeDir}},
			"mychart/", "each path once"},
		{"duplicate after cleaning", []chartEntry{chart, {name: "mychart/./Chart.yaml", data: chartYAML("6.6.6")}},
			"mychart/./Chart.yaml", "clean path"},
		{"dot-dot", []chartEntry{chart, {name: "mychart/../../evil"}},
			"mychart/../../evil", `".."`},
		{"dot-dot at the top", []chartEntry{{name: "../evil/Chart.yaml", data: chartYAML("1.0.0")}},
			"../evil/Chart.yaml", `".."`},
		{"absolute", []chartEntry{chart, {name: "/etc/evil"}},
			"/etc/evil", "absolute"},
		{"absolute chart", []chartEntry{{name: "/mychart/Chart.yaml", data: chartYAML("1.0.0")}},
			"/mychart/Chart.yaml", "absolute"},
		{"symlink to /etc/passwd", []chartEntry{chart, {name: "mychart/link", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}},
			"mychart/link", "symlink"},
		{"symlink outside", []chartEntry{chart, {name: "mychart/link", typeflag: tar.TypeSymlink, linkname: "../../outside"}},
			"mychart/link", "symlink"},
		{"hardlink to /etc/passwd", []chartEntry{chart, {name: "mychart/link", typeflag: tar.TypeLink, linkname: "/etc/passwd"}},
			"mychart/link", "hardlink"},
		{"hardlink outside", []chartEntry{chart, {name: "mychart/link", typeflag: tar.TypeLink, linkname: "mychart/../../outside"}},
			"mychart/link", "hardlink"},
		{"hardlink inside", []chartEntry{chart, {name: "mychart/link", typeflag: tar.TypeLink, linkname: "mychart/Chart.yaml"}},
			"mychart/link", "hardlink"},
		{"char device", []chartEntry{chart, {name: "mychart/null", typeflag: tar.TypeChar}},
			"mychart/null", "character device"},
		{"block device", []chartEntry{chart, {name: "mychart/sda", typeflag: tar.TypeBlock}},
			"mychart/sda", "block device"},
		{"fifo", []chartEntry{chart, {name: "mychart/p", typeflag: tar.TypeFifo}},
			"mychart/p", "FIFO"},
		{"pax global header", []chartEntry{{typeflag: tar.TypeXGlobalHeader}, chart},
			"", "global header"},
		{"leading dot", []chartEntry{{name: "./mychart/Chart.yaml", data: chartYAML("1.0.0")}},
			"./mychart/Chart.yaml", "clean path"},
		{"empty component", []chartEntry{chart, {name: "mychart//templates/a.yaml"}},
			"mychart//templates/a.yaml", "clean path"},
		{"trailing dot", []chartEntry{chart, {name: "mychart/templates/.", typeflag: tar.TypeDir}},
			"mychart/templates/.", "clean path"},
		{"file with a trailing slash", []chartEntry{chart, {name: "mychart/a.yaml_", rawName: "mychart/a.yaml/"}},
			"mychart/a.yaml/", "clean path"},
		{"backslash", []chartEntry{chart, {name: `mychart\..\..\evil`}},
			`mychart\..\..\evil`, "backslash"},
		{"drive letter", []chartEntry{chart, {name: "mychart/c:/evil"}},
			"mychart/c:/evil", "drive letter"},
		{"second top directory", []chartEntry{chart, {name: "other/Chart.yaml", data: chartYAML("6.6.6")}},
			"other/Chart.yaml", `under "other"`},
		{"file at the top", []chartEntry{chart, {name: "evil"}},
			"evil", "top level"},
		{"top directory named Chart.yaml", []chartEntry{{name: "Chart.yaml/Chart.yaml", data: chartYAML("1.0.0")}},
			"Chart.yaml/Chart.yaml", "top-level directory"},
		{"file then directory of that name", []chartEntry{chart, {name: "mychart/templates"}, {name: "mychart/templates/a.yaml"}},
			"mychart/templates/a.yaml", "regular file of an earlier entry"},
		{"files then a file of their directory's name", []chartEntry{chart, {name: "mychart/templates/a.yaml"}, {name: "mychart/templates"}},
			"mychart/templates", "expected a directory"},
		{"directory then file of that name", []chartEntry{chart, {name: "mychart/x/", typeflag: tar.TypeDir}, {name: "mychart/x"}},
			"mychart/x", "each path once"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tgz := writeChartTgz(t, "hostile.tgz", c.entries)
			assertHelmRefused(t, tgz, c.bad, c.problem)
		})
	}
}

// assertHelmRefused packs tgz and checks the pack fails with a usage error
// naming tgz, the entry bad, and problem, and leaves no tag and no blob.
func assertHelmRefused(t *testing.T, tgz, bad, problem string) {
	t.Helper()
	dir, _, err := packChart(t, tgz, pack.Options{})
	if err == nil {
		t.Fatalf("%s packed; want a usage error naming entry %q", tgz, bad)
	}
	if !errors.Is(err, layout.ErrInvalidArgument) {
		t.Errorf("error %q does not wrap layout.ErrInvalidArgument", err)
	}
	msg := err.Error()
	if bad != "" && !strings.Contains(msg, fmt.Sprintf("entry %q", bad)) {
		t.Errorf("error %q does not name entry %q", msg, bad)
	}
	if !strings.Contains(msg, tgz) || !strings.Contains(msg, problem) {
		t.Errorf("error %q: want the archive %s and %q", msg, tgz, problem)
	}
	assertNoTags(t, dir)
	if blobs := blobFiles(t, dir); len(blobs) != 0 {
		t.Errorf("a refused chart left %d blobs", len(blobs))
	}
}

// The scan is bounded (RELIABILITY I8): in entries, and in the bytes of
// tar it decompresses, whatever the archive claims.
func TestHelmArchiveBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds large archives")
	}
	t.Run("entries", func(t *testing.T) {
		entries := []chartEntry{{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")}}
		for i := 0; i < 1<<16; i++ {
			entries = append(entries, chartEntry{name: fmt.Sprintf("mychart/f%d", i)})
		}
		assertHelmRefused(t, writeChartTgz(t, "many.tgz", entries), "", "more than 65536 entries")
	})
	t.Run("path bytes", func(t *testing.T) {
		entries := []chartEntry{{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")}}
		for i := 0; i < 1100; i++ {
			entries = append(entries, chartEntry{name: fmt.Sprintf("mychart/%04d%s", i, strings.Repeat("n", 4000))})
		}
		assertHelmRefused(t, writeChartTgz(t, "long.tgz", entries), entries[1046].name,
			"bytes of paths") // the first name past 4 MiB: 25 + 1046*4012 bytes
	})
	t.Run("tar bytes", func(t *testing.T) {
		big := strings.Repeat("\x00", 129<<20)
		entries := []chartEntry{{name: "mychart/Chart.yaml", data: chartYAML("1.0.0")}, {name: "mychart/big", data: big}}
		assertHelmRefused(t, writeChartTgz(t, "bomb.tgz", entries), "", "more than 134217728 bytes")
	})
}

// swapOnDone replaces the file at path with data when the first tracked
// item is done, i.e. after the chart's layer was stored.
type swapOnDone struct {
	t    *testing.T
	path string
	data []byte
}

func (s *swapOnDone) track(string, int64) (func(int64), func(error)) {
	return func(int64) {}, s.done
}

func (s *swapOnDone) done(err error) {
	if err == nil {
		if werr := os.WriteFile(s.path, s.data, 0o644); werr != nil {
			s.t.Error(werr)
		}
	}
}

// A chart replaced after its layer was stored is not described by a config
// read from the new file: the pack fails with ErrChanged.
func TestHelmArchiveChangedWhilePacking(t *testing.T) {
	tgz := writeChartTgz(t, "mychart-1.0.0.tgz", normalChart())
	other := chartTgz(t, []chartEntry{{name: "mychart/Chart.yaml", data: chartYAML("6.6.6")}})
	dir, res, err := packChart(t, tgz, pack.Options{Progress: (&swapOnDone{t: t, path: tgz, data: other}).track})
	if !errors.Is(err, pack.ErrChanged) {
		var version string
		if res != nil {
			var cfg map[string]any
			_ = json.Unmarshal(readBlob(t, dir, manifestOf(t, dir, res.Manifest.Digest).Config.Digest), &cfg)
			version, _ = cfg["version"].(string)
		}
		t.Fatalf("err %v (config version %q, layer %s); want ErrChanged", err, version, layerDigest(res))
	}
	if !strings.Contains(err.Error(), tgz) || !strings.Contains(err.Error(), digest.FromBytes(other).String()) {
		t.Errorf("error %q: want the archive and both digests", err)
	}
	assertNoTags(t, dir)
}

func layerDigest(res *pack.Result) digest.Digest {
	if res == nil || len(res.Layers) == 0 {
		return ""
	}
	return res.Layers[0].Descriptor.Digest
}
