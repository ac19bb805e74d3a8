//go:build !windows

package extract

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// putImage stores a container image of the given layer tars (the first
// gzip-compressed, the rest plain) with an OCI image config.
func putImage(t *testing.T, l *layout.Layout, tars ...[]byte) ocispec.Descriptor {
	t.Helper()
	var layers []ocispec.Descriptor
	img := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}}
	for i, b := range tars {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digest.FromBytes(b))
		if i == 0 {
			layers = append(layers, putBlob(t, l, ocispec.MediaTypeImageLayerGzip, gzipBytes(t, b), nil))
		} else {
			layers = append(layers, putBlob(t, l, ocispec.MediaTypeImageLayer, b, nil))
		}
	}
	config := putBlob(t, l, ocispec.MediaTypeImageConfig, mustJSON(t, img), nil)
	return putManifest(t, l, "img", &config, layers...)
}

func TestContainerImage(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	base := tarBytes(t,
		dir("etc/"), file("etc/hostname", "base\n"), file("etc/passwd", "root:x:0:0\n"),
		dir("bin/"), ent{name: "bin/sh", typ: tar.TypeReg, body: "#!shell", mode: 0o4755},
		hardlink("bin/sh2", "bin/sh"),
		ent{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		dir("usr/"), dir("usr/lib/"), file("usr/lib/libc.so", "libc"),
		symlink("lib", "usr/lib"), symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
		dir("dev/"), ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		dir("gone/"), file("gone/x", "x"),
	)
	top := tarBytes(t,
		dir("etc/"), file("etc/.wh.passwd", ""), file("etc/hostname", "top\n"), file("etc/motd", "hello\n"),
		file(".wh.gone", ""),
	)
	m := putImage(t, l, base, top)
	var warnings []string
	res, err := Extract(context.Background(), l, m, Options{Dir: s.out, Warn: func(w string) { warnings = append(warnings, w) }})
	if err != nil {
		t.Fatal(err)
	}
	got := tree(t, s.out, true)
	want := map[string]string{
		"etc":             "dir 0755",
		"etc/hostname":    "file 0644 " + sha("top\n"),
		"etc/motd":        "file 0644 " + sha("hello\n"),
		"etc/localtime":   "symlink -> /usr/share/zoneinfo/UTC",
		"bin":             "dir 0755",
		"bin/sh":          "file 0755 " + sha("#!shell"),
		"bin/sh2":         "file 0755 " + sha("#!shell"),
		"tmp":             "dir 0777",
		"usr":             "dir 0755",
		"usr/lib":         "dir 0755",
		"usr/lib/libc.so": "file 0644 " + sha("libc"),
		"lib":             "symlink -> usr/lib",
		"dev":             "dir 0755",
	}
	diffTrees(t, want, got)
	a, _ := os.Stat(filepath.Join(s.out, "bin/sh"))
	b, _ := os.Stat(filepath.Join(s.out, "bin/sh2"))
	if a == nil || b == nil || !os.SameFile(a, b) {
		t.Error("bin/sh2 is not a hardlink of bin/sh")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "dev/null") {
		t.Errorf("warnings %q, want one naming the skipped dev/null", warnings)
	}
	if len(res.Files) != 7 {
		t.Errorf("result lists %d files, want 7: %+v", len(res.Files), res.Files)
	}
	noFinalNames(t, s.out, "bin", "dev", "etc", "lib", "tmp", "usr")
	s.check(t)
}

// A corrupt image layer, or a diffID that does not match, leaves nothing —
// not even staged read-only directories, for an unprivileged user.
func TestContainerImageCorrupt(t *testing.T) {
	for _, wrongDiffID := range []bool{false, true} {
		l := newLayout(t)
		layer := tarBytes(t, dir("etc/"), file("etc/hostname", strings.Repeat("h", 5000)),
			ent{name: "ro/", typ: tar.TypeDir, mode: 0o555}, file("ro/f", "f"))
		var m ocispec.Descriptor
		if wrongDiffID {
			m = putImage(t, l, layer, tarBytes(t, file("x", "x")))
			// Replace the config with one whose second diffID is wrong.
			img := ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer), digest.FromString("other")}}}
			config := putBlob(t, l, ocispec.MediaTypeImageConfig, mustJSON(t, img), nil)
			doc, err := l.ReadDocument(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			m = putManifest(t, l, "img", &config, doc.Layers...)
		} else {
			m = putImage(t, l, layer)
			doc, err := l.ReadDocument(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, l, doc.Layers[0], int(doc.Layers[0].Size)/2)
		}
		out := filepath.Join(t.TempDir(), "out")
		mustFail(t, l, m, Options{Dir: out}, cas.ErrDigestMismatch)
		noFinalNames(t, out)
	}
}

func TestIsImage(t *testing.T) {
	cfg := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig}
	tarGz := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip}
	titled := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Annotations: map[string]string{ocispec.AnnotationTitle: "x"}}
	raw := ocispec.Descriptor{MediaType: "application/octet-stream"}
	for _, c := range []struct {
		doc  layout.Document
		want bool
	}{
		{layout.Document{Config: cfg, Layers: []ocispec.Descriptor{tarGz, tarGz}}, true},
		{layout.Document{Config: &ocispec.Descriptor{MediaType: mediaTypeDockerConfig}, Layers: []ocispec.Descriptor{{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip"}}}, true},
		{layout.Document{Config: cfg}, false},
		{layout.Document{Config: cfg, Layers: []ocispec.Descriptor{tarGz, raw}}, false},
		{layout.Document{Config: cfg, Layers: []ocispec.Descriptor{titled}}, false},
		{layout.Document{Config: &ocispec.Descriptor{MediaType: ocispec.MediaTypeEmptyJSON}, Layers: []ocispec.Descriptor{tarGz}}, false},
	} {
		if got := isImage(&c.doc); got != c.want {
			t.Errorf("isImage(config %s, %d layers) = %v, want %v", c.doc.Config.MediaType, len(c.doc.Layers), got, c.want)
		}
	}
}
