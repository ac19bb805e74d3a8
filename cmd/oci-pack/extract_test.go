package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// extractBinary is $OCI_PACK_BIN (make builds it first) or a fresh build.
func extractBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("OCI_PACK_BIN"); p != "" {
		return p
	}
	p := filepath.Join(t.TempDir(), "oci-pack")
	cmd := exec.Command("go", "build", "-o", p, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return p
}

// cliRun runs the binary in dir and returns exit code, stdout, stderr.
func cliRun(t *testing.T, bin, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("run %v: %v", args, err)
	return 0, "", ""
}

func TestExtractCLI(t *testing.T) {
	bin := extractBinary(t)
	work := t.TempDir()
	mustWrite := func(p, body string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(filepath.Join(work, "src/tok/a.json"), `{"a":1}`, 0o664)
	mustWrite(filepath.Join(work, "src/tok/sub/b.txt"), "b", 0o600)
	if err := os.Symlink("a.json", filepath.Join(work, "src/tok/link")); err != nil {
		t.Fatal(err)
	}
	mustWrite(filepath.Join(work, "src/model.bin"), strings.Repeat("w", 4096), 0o644)
	if code, _, stderr := cliRun(t, bin, work, "pack", "L:v1", "src/tok", "src/model.bin", "--artifact-type", "application/vnd.test"); code != 0 {
		t.Fatalf("pack: exit %d: %s", code, stderr)
	}

	t.Run("json lists what was written", func(t *testing.T) {
		code, stdout, stderr := cliRun(t, bin, work, "extract", "L:v1", "-o", "out1", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got struct {
			Files []struct {
				Path string
				Size int64
				Type string
			}
			Bytes int64
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
		}
		want := map[string]int64{"src/model.bin": 4096, "src/tok/a.json": 7, "src/tok/link": 6, "src/tok/sub/b.txt": 1}
		if len(got.Files) != len(want) || got.Bytes != 4096+7+1 {
			t.Errorf("files %+v, bytes %d; want %v, %d bytes", got.Files, got.Bytes, want, 4096+7+1)
		}
		for _, f := range got.Files {
			if want[f.Path] != f.Size {
				t.Errorf("%s: size %d, want %d", f.Path, f.Size, want[f.Path])
			}
		}
		for _, p := range []string{"src/tok/a.json", "src/tok/sub/b.txt", "src/model.bin"} {
			a, _ := os.ReadFile(filepath.Join(work, p))
			b, err := os.ReadFile(filepath.Join(work, "out1", p))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s differs after extract (%v)", p, err)
			}
		}
		// Packed as git stores it (0644; --preserve-mode keeps 0664).
		if fi, err := os.Stat(filepath.Join(work, "out1/src/tok/a.json")); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("a.json mode %v (%v), want 0644", fi.Mode(), err)
		}
		if target, err := os.Readlink(filepath.Join(work, "out1/src/tok/link")); err != nil || target != "a.json" {
			t.Errorf("link -> %q (%v), want a.json", target, err)
		}
		if !strings.Contains(stderr, "4 file(s)") {
			t.Errorf("stderr has no summary line: %q", stderr)
		}
	})

	t.Run("existing file is a conflict unless --overwrite", func(t *testing.T) {
		mustWrite(filepath.Join(work, "out2/src/model.bin"), "old", 0o644)
		code, _, stderr := cliRun(t, bin, work, "extract", "L:v1", "-o", "out2")
		if code != exitConflict || !strings.Contains(stderr, "out2/src/model.bin exists") {
			t.Fatalf("exit %d, stderr %q; want %d naming out2/src/model.bin", code, stderr, exitConflict)
		}
		if _, err := os.Lstat(filepath.Join(work, "out2/src/tok")); !os.IsNotExist(err) {
			t.Errorf("src/tok was written despite the conflict (%v)", err)
		}
		if code, _, stderr := cliRun(t, bin, work, "extract", "L:v1", "-o", "out2", "--overwrite"); code != 0 {
			t.Fatalf("--overwrite: exit %d: %s", code, stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(work, "out2/src/model.bin")); len(b) != 4096 {
			t.Errorf("model.bin has %d bytes after --overwrite", len(b))
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"extract", "L:v1"},
			{"extract", "L:v1", "-o", "x", "--include", "[bad"},
			{"extract", "L", "-o", "x"},
		} {
			if code, _, stderr := cliRun(t, bin, work, args...); code != exitUsage {
				t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, exitUsage)
			}
		}
		_, stdout, _ := cliRun(t, bin, work, "extract", "--help")
		if !strings.Contains(stdout, "4 when a target already exists") {
			t.Errorf("help does not document exit code 4:\n%s", stdout)
		}
	})

	t.Run("corrupt blob is an integrity failure with nothing written", func(t *testing.T) {
		l, err := layout.Open(filepath.Join(work, "L"), layout.Options{Mode: layout.ReadOnly})
		if err != nil {
			t.Fatal(err)
		}
		desc, err := l.Resolve(context.Background(), layout.Ref{Tag: "v1"})
		if err == nil {
			var doc *layout.Document
			if doc, err = l.ReadDocument(context.Background(), desc); err == nil {
				desc = doc.Layers[0]
			}
		}
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		corrupt := filepath.Join(t.TempDir(), "C")
		if err := os.CopyFS(corrupt, os.DirFS(filepath.Join(work, "L"))); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(corrupt, "blobs/sha256", desc.Digest.Encoded())
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x40
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out")
		code, _, stderr := cliRun(t, bin, work, "extract", corrupt+":v1", "-o", out)
		if code != exitIntegrity || !strings.Contains(stderr, desc.Digest.Encoded()) {
			t.Errorf("exit %d, stderr %q; want %d naming %s", code, stderr, exitIntegrity, desc.Digest)
		}
		if _, err := os.Lstat(out); !os.IsNotExist(err) {
			entries, _ := os.ReadDir(out)
			t.Errorf("out holds %v after a failed extract", entries)
		}
	})

	t.Run("hostile names and links are integrity failures", func(t *testing.T) {
		base := t.TempDir()
		mustWrite(filepath.Join(base, "cwd/secret"), "cwd secret", 0o600)
		mustWrite(filepath.Join(base, "home/.bashrc"), "safe", 0o644)
		l := filepath.Join(base, "H")
		bashrc := hostileArtifact(t, l, "bashrc", rawBlob("../../home/.bashrc", "evil"))
		hard := hostileArtifact(t, l, "hard", tarBlob(t, "t", []tar.Header{
			{Name: "t/", Typeflag: tar.TypeDir, Mode: 0o755},
			{Name: "t/h", Typeflag: tar.TypeLink, Linkname: "secret"},
		}))
		for _, c := range []struct{ tag, mention string }{
			{bashrc, `layer 0 title "../../home/.bashrc" is not a local path`},
			{hard, `entry "t/h": hardlink target "secret"`},
		} {
			out := filepath.Join(base, "cwd", "out")
			code, _, stderr := cliRun(t, bin, filepath.Join(base, "cwd"), "extract", l+":"+c.tag, "-o", out)
			if code != exitIntegrity || !strings.Contains(stderr, c.mention) {
				t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.tag, code, stderr, exitIntegrity, c.mention)
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Errorf("%s: out exists after a refused extract", c.tag)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(base, "home/.bashrc")); string(b) != "safe" {
			t.Errorf(".bashrc is %q", b)
		}
		if b, _ := os.ReadFile(filepath.Join(base, "cwd/secret")); string(b) != "cwd secret" {
			t.Errorf("cwd/secret is %q", b)
		}
	})
}

type hostileLayer struct {
	mediaType string
	body      []byte
	ann       map[string]string
}

func rawBlob(title, body string) hostileLayer {
	return hostileLayer{"application/octet-stream", []byte(body), map[string]string{ocispec.AnnotationTitle: title}}
}

func tarBlob(t *testing.T, title string, hdrs []tar.Header) hostileLayer {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for i := range hdrs {
		if err := tw.WriteHeader(&hdrs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return hostileLayer{ocispec.MediaTypeImageLayerGzip, gz.Bytes(), map[string]string{
		ocispec.AnnotationTitle: title, "io.deis.oras.content.unpack": "true",
	}}
}

// hostileArtifact writes an artifact of one crafted layer straight into the
// layout at dir (as an attacker's tool would) and tags it tag.
func hostileArtifact(t *testing.T, dir, tag string, hl hostileLayer) string {
	t.Helper()
	ctx := context.Background()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	put := func(mt string, b []byte, ann map[string]string) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b)), Annotations: ann}
		if _, err := l.Blobs().Put(ctx, bytes.NewReader(b), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test",
		Config: put(ocispec.MediaTypeEmptyJSON, []byte("{}"), nil),
		Layers: []ocispec.Descriptor{put(hl.mediaType, hl.body, hl.ann)},
	}
	m.SchemaVersion = 2
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	md := put(ocispec.MediaTypeImageManifest, b, nil)
	err = l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		_, err := e.Tag(tag, md, layout.ConflictFail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// An --include that matches nothing writes nothing and says so.
func TestExtractIncludeMatchesNothing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.bin"), []byte("a"), 0o644)
	must(t, dir, "pack", "L:v1", "a.bin", "--artifact-type", "application/x.t")
	r := must(t, dir, "extract", "L:v1", "-o", "out", "--include", "*.safetensors")
	if !strings.Contains(r.stderr, `warning: no name in L:v1 matches --include *.safetensors`) {
		t.Errorf("no warning: %s", r)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "out")); len(entries) != 0 {
		t.Errorf("out holds %d entries", len(entries))
	}
}
