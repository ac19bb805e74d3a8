//go:build linux

package pack_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	apexlog "github.com/apex/log"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/umoci/oci/cas/dir"
	"github.com/opencontainers/umoci/oci/layer"
)

// TestModelcarUmociUnpack unpacks each platform's image of --preset
// modelcar with umoci's layer unpacker (rootless, as `umoci unpack
// --rootless`), an independent reader of image layers: the rootfs must be
// exactly models/ holding the input's files, byte-identical, with
// normalised modes (0755 executables, 0644 other files, 0755 directories).
func TestModelcarUmociUnpack(t *testing.T) {
	if !testing.Verbose() {
		apexlog.SetLevel(apexlog.WarnLevel)
	}
	src := goldenDir(t)
	L := filepath.Join(t.TempDir(), "L")
	res := packInto(t, L, inputs(src), pack.Options{Preset: preset(t, "modelcar"), Jobs: 2})
	engine, err := dir.Open(L)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	want := modelFiles(t, src)
	for _, m := range res.Image.Manifests {
		var man ocispec.Manifest
		readJSON(t, L, m.Digest, &man)
		rootfs := filepath.Join(t.TempDir(), "rootfs")
		opts := &layer.UnpackOptions{OnDiskFormat: layer.DirRootfs{MapOptions: layer.MapOptions{
			Rootless:    true,
			UIDMappings: []rspec.LinuxIDMapping{{HostID: uint32(os.Geteuid()), ContainerID: 0, Size: 1}},
			GIDMappings: []rspec.LinuxIDMapping{{HostID: uint32(os.Getegid()), ContainerID: 0, Size: 1}},
		}}}
		if err := layer.UnpackRootfs(ctx, engine, rootfs, man, opts); err != nil {
			t.Fatalf("umoci unpack %s: %v", m.Platform.Architecture, err)
		}
		top, _ := os.ReadDir(rootfs)
		if len(top) != 1 || top[0].Name() != "models" {
			t.Errorf("%s: rootfs holds %v, want models/ alone", m.Platform.Architecture, top)
		}
		got := map[string]bool{}
		filepath.WalkDir(filepath.Join(rootfs, "models"), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(filepath.Join(rootfs, "models"), p)
			info, _ := d.Info()
			if d.IsDir() {
				if info.Mode().Perm() != 0o755 {
					t.Errorf("%s: directory mode %o", rel, info.Mode().Perm())
				}
				return nil
			}
			w, ok := want[filepath.ToSlash(rel)]
			b, _ := os.ReadFile(p)
			switch {
			case !ok:
				t.Errorf("%s: %s not in the input", m.Platform.Architecture, rel)
			case !bytes.Equal(b, w.data):
				t.Errorf("%s: %s differs from the input", m.Platform.Architecture, rel)
			case info.Mode().Perm() != w.mode:
				t.Errorf("%s: %s mode %o, want %o", m.Platform.Architecture, rel, info.Mode().Perm(), w.mode)
			}
			got[filepath.ToSlash(rel)] = true
			return nil
		})
		for name := range want {
			if !got[name] {
				t.Errorf("%s: %s missing from the rootfs", m.Platform.Architecture, name)
			}
		}
	}
}

type modelFile struct {
	data []byte
	mode fs.FileMode
}

// modelFiles lists what the modelpack walk packs from dir: every regular
// file and symlink to one (its target's bytes), by slash path, with the
// mode the image records.
func modelFiles(t *testing.T, dir string) map[string]modelFile {
	t.Helper()
	out := map[string]modelFile{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := os.Stat(p)
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mode := fs.FileMode(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = modelFile{b, mode}
		return nil
	})
	return out
}
