package extract

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tempDir is t.TempDir whose directories are made writable again before
// it is removed (trees with read-only directories, as an unprivileged user).
func tempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Cleanup(func() {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return d
}

// newLayout makes an empty layout in a temp dir.
func newLayout(t *testing.T) *layout.Layout {
	t.Helper()
	l, err := layout.Open(filepath.Join(t.TempDir(), "L"), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// putBlob stores b and returns its descriptor.
func putBlob(t *testing.T, l *layout.Layout, mediaType string, b []byte, ann map[string]string) ocispec.Descriptor {
	t.Helper()
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b)), Annotations: ann}
	if _, err := l.Blobs().Put(context.Background(), bytes.NewReader(b), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// putManifest stores a manifest of config and layers (config nil: the
// empty descriptor) and tags it tag (if not "").
func putManifest(t *testing.T, l *layout.Layout, tag string, config *ocispec.Descriptor, layers ...ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Layers: layers}
	m.SchemaVersion = 2
	if config == nil {
		empty := putBlob(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"), nil)
		config = &empty
		m.ArtifactType = "application/vnd.test.artifact"
	}
	m.Config = *config
	if m.Layers == nil {
		m.Layers = []ocispec.Descriptor{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := putBlob(t, l, ocispec.MediaTypeImageManifest, b, nil)
	d.ArtifactType = m.ArtifactType
	if tag != "" {
		tagDesc(t, l, tag, d)
	}
	return d
}

func tagDesc(t *testing.T, l *layout.Layout, tag string, d ocispec.Descriptor) {
	t.Helper()
	err := l.UpdateIndex(context.Background(), func(e *layout.IndexEdit) error {
		_, err := e.Tag(tag, d, layout.ConflictOverwrite)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ent is one crafted tar entry.
type ent struct {
	name string
	typ  byte
	body string
	link string
	mode int64
}

func file(name, body string) ent { return ent{name: name, typ: tar.TypeReg, body: body, mode: 0o644} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}

// tarBytes builds an uncompressed tar of es, in order.
func tarBytes(t *testing.T, es ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarLayer stores es as an oras-style gzip directory layer titled title.
func tarLayer(t *testing.T, l *layout.Layout, title string, es ...ent) ocispec.Descriptor {
	t.Helper()
	raw := tarBytes(t, es...)
	return putBlob(t, l, ocispec.MediaTypeImageLayerGzip, gzipBytes(t, raw), map[string]string{
		ocispec.AnnotationTitle: title,
		annotationUnpack:        "true",
		annotationDiffID:        digest.FromBytes(raw).String(),
	})
}

// rawLayer stores body as a raw-file layer titled title.
func rawLayer(t *testing.T, l *layout.Layout, title, body string) ocispec.Descriptor {
	t.Helper()
	return putBlob(t, l, "application/octet-stream", []byte(body), map[string]string{ocispec.AnnotationTitle: title})
}

// tree lists everything below dir (not following symlinks, through an
// os.Root so paths over PATH_MAX work): path → "dir 0755",
// "file 0644 <sha256>" or "symlink -> target". withModes false leaves
// file modes out (raw files get the umask's mode).
func tree(t *testing.T, dir string, withModes bool) map[string]string {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[string]string{}
	err = walkRoot(r, ".", func(p string, info fs.FileInfo) error {
		if p == "." {
			return nil
		}
		d := fs.FileInfoToDirEntry(info)
		mode := ""
		if withModes {
			mode = fmt.Sprintf(" %04o", info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		}
		switch {
		case d.IsDir():
			out[p] = "dir" + mode
		case d.Type()&fs.ModeSymlink != 0:
			target, err := r.Readlink(p)
			if err != nil {
				return err
			}
			out[p] = "symlink -> " + target
		case d.Type().IsRegular():
			f, err := r.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			out[p] = "file" + mode + " " + hex.EncodeToString(h.Sum(nil))
		default:
			out[p] = "other " + d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffTrees fails t with every difference between want and got.
func diffTrees(t *testing.T, want, got map[string]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		if want[k] != got[k] {
			if n++; n <= 20 {
				t.Errorf("%.120q: want %q, got %q", k, want[k], got[k])
			}
		}
	}
	if n > 20 {
		t.Errorf("… and %d more differences", n-20)
	}
}

// sandbox is a directory holding the extraction target "out" and sentinel
// files around it, to prove nothing outside "out" changes.
type sandbox struct {
	base    string
	out     string
	outside string // sentinel tree: passwd, secret, dir/
	cwd     string // holds a "secret", used as the working directory
	before  map[string]string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	base := t.TempDir()
	s := &sandbox{base: base, out: filepath.Join(base, "out"), outside: filepath.Join(base, "outside"), cwd: filepath.Join(base, "cwd")}
	for _, d := range []string{s.outside, filepath.Join(s.outside, "dir"), s.cwd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, body string, mode fs.FileMode) {
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(s.outside, "passwd"), "root:x:0:0:root:/root:/bin/sh\n", 0o644)
	write(filepath.Join(s.outside, "secret"), "outside secret\n", 0o600)
	write(filepath.Join(s.cwd, "secret"), "cwd secret\n", 0o600)
	s.before = s.snapshot(t)
	return s
}

// snapshot lists the sandbox but for out.
func (s *sandbox) snapshot(t *testing.T) map[string]string {
	t.Helper()
	all := tree(t, s.base, true)
	for k := range all {
		if k == "out" || strings.HasPrefix(k, "out/") {
			delete(all, k)
		}
	}
	return all
}

// check asserts the sentinel tree is unchanged (content and modes), that
// nothing new appeared next to out, and that no file in out shares an
// inode with a sentinel (a hardlink to a host file).
func (s *sandbox) check(t *testing.T) {
	t.Helper()
	diffTrees(t, s.before, s.snapshot(t))
	var sentinels []os.FileInfo
	for _, p := range []string{filepath.Join(s.outside, "passwd"), filepath.Join(s.outside, "secret"), filepath.Join(s.cwd, "secret")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		sentinels = append(sentinels, fi)
	}
	_ = filepath.WalkDir(s.out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		for _, sfi := range sentinels {
			if os.SameFile(fi, sfi) {
				t.Errorf("%s shares its inode with a sentinel file", p)
			}
		}
		return nil
	})
}

// noFinalNames asserts out holds nothing but want (pre-existing names)
// and no staging directory is left.
func noFinalNames(t *testing.T, out string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s holds %q, want only %q", out, got, want)
	}
}

// mustFail runs Extract expecting an error wrapping want and naming each
// of mention.
func mustFail(t *testing.T, l *layout.Layout, desc ocispec.Descriptor, o Options, want error, mention ...string) error {
	t.Helper()
	_, err := Extract(context.Background(), l, desc, o)
	if err == nil {
		t.Fatalf("Extract succeeded; want an error wrapping %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not wrap %v", err, want)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	return err
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func isErr(err, target error) bool { return err != nil && errors.Is(err, target) }

// flipByte corrupts one byte of a stored blob in place.
func flipByte(t *testing.T, l *layout.Layout, d ocispec.Descriptor, off int) {
	t.Helper()
	p := filepath.Join(l.Dir(), "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x55
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
