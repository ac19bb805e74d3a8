package pack_test

import (
	"archive/tar"
	"crypto/sha256"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/packtest"
	"github.com/opencontainers/go-digest"
)

// packDir packs one directory with o and returns its layer's entries.
func packDir(t *testing.T, src string, o pack.Options) ([]tarEntry, *pack.Result, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "L")
	if o.ArtifactType == "" {
		o.ArtifactType = "application/vnd.test.v1"
	}
	res := packInto(t, dir, inputs(src), o)
	layouttest.Check(t, dir)
	return readTar(t, dir, res.Layers[0].Descriptor), res, dir
}

// TestTarReproducible checks every rule of DESIGN 3 for directory layers:
// byte-wise sorted paths prefixed by the directory name, uid/gid 0, no
// user or group names, one mtime (epoch by default, Options.MTime
// otherwise), permission bits without setuid/setgid/sticky, symlinks kept
// as symlinks, PAX for long names, and the diffID annotation.
func TestTarReproducible(t *testing.T) {
	_, in := goldenInputs(t)
	tok := in[2].Path
	os.Chmod(filepath.Join(tok, "run.sh"), 0o4755|os.ModeSetgid)
	os.Chmod(filepath.Join(tok, "nested"), 0o755|os.ModeSticky)
	for _, mt := range []time.Time{{}, time.Unix(1700000000, 0)} {
		entries, res, _ := packDir(t, tok, pack.Options{Compression: "none", MTime: mt})
		want := mt
		if mt.IsZero() {
			want = time.Unix(0, 0)
		}
		var names []string
		for _, e := range entries {
			h := e.hdr
			names = append(names, h.Name)
			if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
				t.Errorf("%s: owner %d:%d %q:%q, want 0:0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
			}
			if !h.ModTime.Equal(want) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
				t.Errorf("%s: mtime %v atime %v ctime %v, want mtime %v only", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, want)
			}
			if h.Mode&^0o777 != 0 {
				t.Errorf("%s: mode %o keeps setuid/setgid/sticky bits", h.Name, h.Mode)
			}
			if !strings.HasPrefix(h.Name, "tokenizer/") && h.Name != "tokenizer/" {
				t.Errorf("%s: not prefixed with the directory name", h.Name)
			}
		}
		wantNames := []string{"tokenizer/", "tokenizer/a/", "tokenizer/a.txt", "tokenizer/a/b", "tokenizer/empty/", "tokenizer/latest",
			"tokenizer/" + packtest.LongName, "tokenizer/nested/", "tokenizer/nested/deeper/", "tokenizer/nested/deeper/merges.txt",
			"tokenizer/run.sh", "tokenizer/vocab.txt"}
		if !slices.Equal(names, wantNames) {
			t.Fatalf("tar entries\n%q\nwant (byte-wise path order)\n%q", names, wantNames)
		}
		byName := map[string]*tar.Header{}
		for _, e := range entries {
			byName[e.hdr.Name] = e.hdr
		}
		if h := byName["tokenizer/latest"]; h.Typeflag != tar.TypeSymlink || h.Linkname != "vocab.txt" {
			t.Errorf("symlink stored as type %c -> %q", h.Typeflag, h.Linkname)
		}
		if h := byName["tokenizer/run.sh"]; h.Mode != 0o755 {
			t.Errorf("run.sh mode %o, want 0755", h.Mode)
		}
		if h := byName["tokenizer/a.txt"]; h.Mode != 0o644 || h.Typeflag != tar.TypeReg {
			t.Errorf("a.txt mode %o type %c", h.Mode, h.Typeflag)
		}
		if h := byName["tokenizer/"+packtest.LongName]; h.Format != tar.FormatPAX {
			t.Errorf("long name stored in format %v, want PAX", h.Format)
		}
		lay := res.Layers[0]
		if lay.Descriptor.MediaType != "application/vnd.oci.image.layer.v1.tar" || lay.DiffID != lay.Descriptor.Digest {
			t.Errorf("uncompressed dir layer %+v (diffID %s)", lay.Descriptor, lay.DiffID)
		}
		if lay.Descriptor.Annotations[ocispecTitle] != "tokenizer" {
			t.Errorf("title %q, want tokenizer", lay.Descriptor.Annotations[ocispecTitle])
		}
	}
}

const ocispecTitle = "org.opencontainers.image.title"

// TestTarGzipUnpackAnnotations: a gzip directory layer carries oras's
// unpack annotations, the digest one naming the uncompressed tar.
func TestTarGzipUnpackAnnotations(t *testing.T) {
	_, in := goldenInputs(t)
	_, res, dir := packDir(t, in[2].Path, pack.Options{Compression: "gzip"})
	d := res.Layers[0].Descriptor
	if d.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" || d.Annotations[layout.AnnotationUnpack] != "true" {
		t.Fatalf("gzip dir layer %+v", d)
	}
	entries := readTar(t, dir, d)
	if len(entries) != 12 {
		t.Fatalf("%d entries", len(entries))
	}
	if got := d.Annotations[layout.AnnotationDigest]; got != res.Layers[0].DiffID.String() || got == d.Digest.String() {
		t.Fatalf("%s = %q, diffID %s", layout.AnnotationDigest, got, res.Layers[0].DiffID)
	}
}

// TestSpecialFilesRejected is RELIABILITY C-31: a FIFO or a socket in a
// directory fails the pack with a message naming it, without hanging, and
// leaves index.json untouched.
func TestSpecialFilesRejected(t *testing.T) {
	for _, kind := range []string{"named pipe", "socket"} {
		src := t.TempDir()
		mkfile(t, src, "ok.txt", []byte("ok"), 0o644)
		special := filepath.Join(src, "sub", "p")
		os.MkdirAll(filepath.Dir(special), 0o755)
		if kind == "named pipe" {
			if err := mkfifo(special); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
		} else {
			ln, err := net.Listen("unix", special)
			if err != nil {
				t.Skipf("unix socket: %v", err)
			}
			defer ln.Close()
		}
		for _, arg := range []string{src, special} {
			dir := filepath.Join(t.TempDir(), "L")
			done := make(chan error, 1)
			go func() {
				_, err := tryPack(dir, inputs(arg), pack.Options{ArtifactType: "application/vnd.test.v1"})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "unsupported file type "+kind) || !strings.Contains(err.Error(), special) {
					t.Errorf("pack of %s with a %s = %v, want an error naming %s", arg, kind, err, special)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("pack of a %s hangs", kind)
			}
			assertNoTags(t, dir)
			layouttest.Check(t, dir)
		}
	}
}

// TestOutputLayoutExcluded is RELIABILITY C-36: packing a directory that
// contains the output layout leaves the layout out of the tar.
func TestOutputLayoutExcluded(t *testing.T) {
	src := t.TempDir()
	mkfile(t, src, "data.txt", []byte("data"), 0o644)
	dir := filepath.Join(src, "L")
	var warned []string
	res := packInto(t, dir, inputs(src), pack.Options{ArtifactType: "application/vnd.test.v1", Compression: "none",
		Warn: func(s string) { warned = append(warned, s) }})
	base := filepath.Base(src)
	var names []string
	for _, e := range readTar(t, dir, res.Layers[0].Descriptor) {
		names = append(names, e.hdr.Name)
	}
	if want := []string{base + "/", base + "/data.txt"}; !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q (the layout excluded)", names, want)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "output layout") {
		t.Fatalf("warnings %q, want one about leaving out the output layout", warned)
	}
	layouttest.Check(t, dir)
}

// TestRawFileLayer: a file packed raw is stored byte for byte, so its
// layer digest is the file's sha256sum.
func TestRawFileLayer(t *testing.T) {
	_, in := goldenInputs(t)
	dir := filepath.Join(t.TempDir(), "L")
	res := packInto(t, dir, in[1:2], pack.Options{ArtifactType: "application/vnd.test.v1"})
	sum := sha256.Sum256(readFile(t, in[1].Path))
	d := res.Layers[0].Descriptor
	if d.Digest != digest.NewDigestFromBytes(digest.SHA256, sum[:]) || d.MediaType != "application/octet-stream" || d.Annotations[ocispecTitle] != "model.safetensors" {
		t.Fatalf("raw layer %+v, want sha256:%x application/octet-stream titled model.safetensors", d, sum)
	}
	layouttest.Check(t, dir)
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
