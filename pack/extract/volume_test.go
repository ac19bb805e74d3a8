package extract

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// volumeLayer stores a tar of es as an image-volume file layer titled
// title whose tar-of annotation is fileDigest.
func volumeLayer(t *testing.T, l *layout.Layout, title string, fileDigest digest.Digest, es ...ent) modelcar.Layer {
	t.Helper()
	d := putBlob(t, l, ocispec.MediaTypeImageLayer, tarBytes(t, es...), map[string]string{
		ocispec.AnnotationTitle: title,
		layout.AnnotationTarOf:  fileDigest.String(),
	})
	return modelcar.Layer{Descriptor: d, Name: "models/" + title}
}

func putVolume(t *testing.T, l *layout.Layout, layers ...modelcar.Layer) ocispec.Descriptor {
	t.Helper()
	img, err := modelcar.Build(context.Background(), l, modelcar.Spec{Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	return img.Index
}

// TestVolume: the image-volume form extracts as its files under their
// titles (once, not per platform, and not as a models/ rootfs), with the
// executable bit kept; --include selects by title.
func TestVolume(t *testing.T) {
	l := newLayout(t)
	idx := putVolume(t, l,
		volumeLayer(t, l, "config.json", digest.FromString("{}"), dir("models/"), file("models/config.json", "{}")),
		volumeLayer(t, l, "sub/run.sh", digest.FromString("#!/bin/sh\n"), dir("models/"), dir("models/sub/"),
			ent{name: "models/sub/run.sh", typ: '0', body: "#!/bin/sh\n", mode: 0o755}),
	)
	out := filepath.Join(tempDir(t), "out")
	res, err := Extract(context.Background(), l, idx, Options{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	diffTrees(t, map[string]string{
		"config.json": "file 0644 " + sha("{}"),
		"sub":         "dir 0755",
		"sub/run.sh":  "file 0755 " + sha("#!/bin/sh\n"),
	}, tree(t, out, true))
	if len(res.Files) != 2 {
		t.Errorf("files %v, want 2", res.Files)
	}
	only := filepath.Join(tempDir(t), "only")
	if _, err := Extract(context.Background(), l, idx, Options{Dir: only, Include: []string{"sub/*"}}); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, map[string]string{"sub": "dir 0755", "sub/run.sh": "file 0755 " + sha("#!/bin/sh\n")}, tree(t, only, true))
}

// TestVolumeHostile: a layer holding a second file, a file not named by
// its title, a link, or a file whose bytes are not its tar-of digest, and
// a layer that is corrupt, fail with nothing under a final name.
func TestVolumeHostile(t *testing.T) {
	body := "weights"
	d := digest.FromString(body)
	cases := []struct {
		name string
		es   []ent
		fd   digest.Digest
		want error
	}{
		{"two files", []ent{dir("models/"), file("models/w.bin", body), file("models/x", "x")}, d, ErrUnsafe},
		{"another name", []ent{dir("models/"), file("models/other.bin", body)}, d, ErrUnsafe},
		{"a symlink", []ent{dir("models/"), symlink("models/w.bin", "/etc/passwd")}, d, ErrUnsafe},
		{"no file", []ent{dir("models/")}, d, ErrUnsafe},
		{"wrong bytes", []ent{dir("models/"), file("models/w.bin", "other")}, d, cas.ErrDigestMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t)
			idx := putVolume(t, l, volumeLayer(t, l, "w.bin", c.fd, c.es...))
			out := filepath.Join(tempDir(t), "out")
			mustFail(t, l, idx, Options{Dir: out}, c.want)
			noFinalNames(t, out)
		})
	}
	l := newLayout(t)
	lay := volumeLayer(t, l, "w.bin", d, dir("models/"), file("models/w.bin", body))
	idx := putVolume(t, l, lay)
	flipByte(t, l, lay.Descriptor, 1024+2)
	out := filepath.Join(tempDir(t), "out")
	mustFail(t, l, idx, Options{Dir: out}, cas.ErrDigestMismatch)
	noFinalNames(t, out)
}
