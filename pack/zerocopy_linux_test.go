package pack_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/oci-pack/oci-pack/cas/fsx/fsxtest"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
)

// TestZeroCopyPackOnXFS: packing files into a layout on the same XFS
// (reflink) file system stores raw layers as clones — the file system's
// free space shrinks by far less than the files' size — with the same
// manifest digest as a copying pack elsewhere, and a layout verify
// passes, for plain files and for the modelpack preset. Skipped without
// root, a loop device or mkfs.xfs, except under CI=true.
func TestZeroCopyPackOnXFS(t *testing.T) {
	mnt := fsxtest.XFS(t)
	const size = 48 << 20
	model := filepath.Join(mnt, "model")
	for _, name := range []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} {
		b := make([]byte, size)
		rand.Read(b)
		mkfile(t, model, name, b, 0o644)
	}
	mkfile(t, model, "config.json", []byte(`{"architectures":["X"]}`), 0o644)
	free := func() int64 {
		var st unix.Statfs_t
		unix.Sync()
		if err := unix.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Bfree) * int64(st.Bsize)
	}
	files := inputs(filepath.Join(model, "model-00001-of-00002.safetensors"), filepath.Join(model, "model-00002-of-00002.safetensors"), filepath.Join(model, "config.json"))
	for _, c := range []struct {
		name string
		in   []pack.Input
		o    pack.Options
	}{
		{"raw files", files, pack.Options{ArtifactType: testType, Jobs: 2, NoCache: true}},
		{"modelpack", inputs(model), pack.Options{Preset: mustPreset(t, "modelpack"), Jobs: 2, NoCache: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := free()
			onXFS := packInto(t, filepath.Join(mnt, "L-"+c.name), c.in, c.o)
			if used := before - free(); used > size/2 {
				t.Errorf("pack of %d bytes used %d bytes of the XFS file system: not cloned", 2*size, used)
			}
			elsewhere := packInto(t, filepath.Join(t.TempDir(), "L"), c.in, c.o)
			if onXFS.Manifest.Digest != elsewhere.Manifest.Digest {
				t.Fatalf("manifest %s on XFS, %s when copied elsewhere", onXFS.Manifest.Digest, elsewhere.Manifest.Digest)
			}
			l, err := layout.Open(filepath.Join(mnt, "L-"+c.name), layout.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			rep, err := l.Verify(ctx, layout.VerifyOptions{})
			if err != nil || len(rep.Problems) > 0 || rep.Bytes < 2*size {
				t.Fatalf("verify of the cloned layout: %+v, %v", rep, err)
			}
		})
	}
}
