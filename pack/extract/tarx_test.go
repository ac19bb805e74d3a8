package extract

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// E-46: hostile titles fail before anything is written — not even the
// good layer before them lands in out.
func TestHostileTitles(t *testing.T) {
	for _, title := range []string{
		"../../.bashrc", "/etc/cron.d/x", "a/../../x", ".", "..", "", "a\x00b",
		strings.Repeat("x", 300), "ok/" + strings.Repeat("y", 256) + "/z",
	} {
		t.Run(strings.ToValidUTF8(title[:min(len(title), 20)], "?"), func(t *testing.T) {
			s := newSandbox(t)
			l := newLayout(t)
			good := rawLayer(t, l, "model.bin", "weights")
			bad := rawLayer(t, l, title, "evil")
			m := putManifest(t, l, "v1", nil, good, bad)
			err := mustFail(t, l, m, Options{Dir: s.out}, ErrUnsafe, "layer 1 title")
			if !strings.Contains(err.Error(), "is not a local path") && !strings.Contains(err.Error(), "is empty") &&
				!strings.Contains(err.Error(), "NUL") && !strings.Contains(err.Error(), "255 bytes") {
				t.Errorf("error %q gives no reason", err)
			}
			if _, err := os.Lstat(s.out); !os.IsNotExist(err) {
				t.Errorf("out was created (%v); titles must be checked before anything is written", err)
			}
			s.check(t)
		})
	}
}

func TestHostileTitleMessage(t *testing.T) {
	l := newLayout(t)
	m := putManifest(t, l, "v1", nil, rawLayer(t, l, "a", "1"), rawLayer(t, l, "b", "2"), rawLayer(t, l, "../../.bashrc", "x"))
	err := mustFail(t, l, m, Options{Dir: filepath.Join(t.TempDir(), "out")}, ErrUnsafe)
	if got, want := err.Error(), `layer 2 title "../../.bashrc" is not a local path`; !strings.HasPrefix(got, want) {
		t.Errorf("error %q, want it to start with %q", got, want)
	}
}

// E-47: link tricks in tar-directory layers. Each fails with ErrUnsafe
// naming the entry, leaves no final name in out and the sandbox intact.
func TestLinkTricks(t *testing.T) {
	cases := []struct {
		name    string
		entries func(s *sandbox) []ent
		mention string
	}{
		{"absolute symlink then file through it", func(s *sandbox) []ent {
			return []ent{dir("t/"), symlink("t/x", s.outside), file("t/x/passwd", "pwned")}
		}, `"t/x"`},
		{"relative chain a→b/.., b→../..", func(*sandbox) []ent {
			return []ent{dir("t/"), symlink("t/a", "b/.."), symlink("t/b", "../.."), file("t/a/x", "pwned")}
		}, `"t/b"`},
		{"chain escaping only through another link", func(*sandbox) []ent {
			return []ent{dir("t/"), symlink("t/q", ".."), symlink("t/r", "q/..")}
		}, `"t/r"`},
		{"symlink named .", func(*sandbox) []ent {
			return []ent{symlink("t/.", "."), file("t/x", "pwned")}
		}, `"t/x"`},
		{"dir, then symlink over it, then file below", func(s *sandbox) []ent {
			return []ent{dir("t/"), dir("t/d/"), symlink("t/d", "e"), file("t/d/x", "pwned")}
		}, `"t/d"`},
		{"dir, then escaping symlink over it", func(s *sandbox) []ent {
			return []ent{dir("t/"), dir("t/d/"), symlink("t/d", s.outside+"/dir"), file("t/d/x", "pwned")}
		}, `"t/d"`},
		{"file through an inside symlink", func(*sandbox) []ent {
			return []ent{dir("t/"), dir("t/real/"), symlink("t/l", "real"), file("t/l/x", "sneaky")}
		}, `parent "t/l" is a symlink`},
		{"hardlink ../../outside/passwd", func(*sandbox) []ent {
			return []ent{dir("t/"), hardlink("t/h", "../../outside/passwd")}
		}, `"t/h"`},
		{"hardlink to absolute path", func(s *sandbox) []ent {
			return []ent{dir("t/"), hardlink("t/h", filepath.Join(s.outside, "passwd"))}
		}, `"t/h"`},
		{"relative hardlink to cwd secret", func(*sandbox) []ent {
			return []ent{dir("t/"), hardlink("t/h", "secret")}
		}, `"t/h"`},
		{"hardlink to a file not written", func(*sandbox) []ent {
			return []ent{dir("t/"), hardlink("t/h", "t/secret")}
		}, "not a regular file written earlier"},
		{"hardlink to a symlink", func(s *sandbox) []ent {
			return []ent{dir("t/"), symlink("t/s", "f"), hardlink("t/h", "t/s")}
		}, "not a regular file written earlier"},
		{"symlink then hardlink through it", func(*sandbox) []ent {
			return []ent{dir("t/"), dir("t/sub/"), file("t/sub/f", "x"), symlink("t/s", "sub"), hardlink("t/h", "t/s/f")}
		}, `"t/h"`},
		{"absolute entry name", func(*sandbox) []ent { return []ent{file("/etc/x", "pwned")} }, `"/etc/x"`},
		{"dot-dot entry name", func(*sandbox) []ent { return []ent{dir("t/"), file("t/../../x", "pwned")} }, `"t/../../x"`},
		{"entry outside the title", func(*sandbox) []ent { return []ent{file("other/x", "x")} }, "outside the layer's title"},
		{"duplicate file entries", func(*sandbox) []ent { return []ent{file("t/x", "1"), file("t/x", "2")} }, "duplicate entry"},
		{"character device", func(*sandbox) []ent {
			return []ent{dir("t/"), {name: "t/null", typ: tar.TypeChar, mode: 0o666}}
		}, "character device"},
		{"fifo", func(*sandbox) []ent { return []ent{dir("t/"), {name: "t/p", typ: tar.TypeFifo, mode: 0o644}} }, "FIFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			t.Chdir(s.cwd)
			l := newLayout(t)
			m := putManifest(t, l, "v1", nil, rawLayer(t, l, "first.bin", "ok"), tarLayer(t, l, "t", c.entries(s)...))
			mustFail(t, l, m, Options{Dir: s.out, Jobs: 2}, ErrUnsafe, "layer 1", c.mention)
			noFinalNames(t, s.out)
			s.check(t)
		})
	}
}

// Symlinks that stay inside are recreated verbatim; setuid, setgid and
// sticky bits are dropped; a hardlink to a file of the same layer is a
// hardlink.
func TestTarEntriesKept(t *testing.T) {
	s := newSandbox(t)
	l := newLayout(t)
	es := []ent{
		dir("t/"), {name: "t/sticky/", typ: tar.TypeDir, mode: 0o1777},
		{name: "t/suid", typ: tar.TypeReg, body: "#!/bin/sh\n", mode: 0o4755},
		{name: "t/sgid", typ: tar.TypeReg, body: "x", mode: 0o2750},
		symlink("t/up", "../t/suid"), symlink("t/dangling", "nowhere"), symlink("t/self", "."),
		hardlink("t/hard", "t/suid"),
	}
	m := putManifest(t, l, "v1", nil, tarLayer(t, l, "t", es...))
	res, err := Extract(context.Background(), l, m, Options{Dir: s.out})
	if err != nil {
		t.Fatal(err)
	}
	got := tree(t, s.out, true)
	want := map[string]string{
		"t":          "dir 0755",
		"t/sticky":   "dir 0777",
		"t/suid":     "file 0755 " + sha("#!/bin/sh\n"),
		"t/sgid":     "file 0750 " + sha("x"),
		"t/hard":     "file 0755 " + sha("#!/bin/sh\n"),
		"t/up":       "symlink -> ../t/suid",
		"t/dangling": "symlink -> nowhere",
		"t/self":     "symlink -> .",
	}
	diffTrees(t, want, got)
	a, _ := os.Stat(filepath.Join(s.out, "t/suid"))
	b, _ := os.Stat(filepath.Join(s.out, "t/hard"))
	if !os.SameFile(a, b) {
		t.Error("t/hard is not a hardlink of t/suid")
	}
	if len(res.Files) != 6 {
		t.Errorf("result lists %d files, want 6: %+v", len(res.Files), res.Files)
	}
	s.check(t)
}

// E-49: pre-existing state in out.
func TestExistingTargets(t *testing.T) {
	setup := func(t *testing.T) (*sandbox, func(Options) (*Result, error)) {
		s := newSandbox(t)
		l := newLayout(t)
		m := putManifest(t, l, "v1", nil, rawLayer(t, l, "model.bin", "new weights"), rawLayer(t, l, "sub/x", "sub file"))
		if err := os.MkdirAll(s.out, 0o755); err != nil {
			t.Fatal(err)
		}
		return s, func(o Options) (*Result, error) {
			o.Dir = s.out
			return Extract(context.Background(), l, m, o)
		}
	}
	t.Run("symlinks to outside, no overwrite", func(t *testing.T) {
		s, run := setup(t)
		mustSymlink(t, filepath.Join(s.outside, "passwd"), filepath.Join(s.out, "model.bin"))
		mustSymlink(t, filepath.Join(s.outside, "dir"), filepath.Join(s.out, "sub"))
		_, err := run(Options{})
		if !isErr(err, ErrExists) || !strings.Contains(err.Error(), "out/model.bin exists and is a symlink") {
			t.Fatalf("error %v, want ErrExists naming out/model.bin as a symlink", err)
		}
		noFinalNames(t, s.out, "model.bin", "sub")
		s.check(t)
	})
	t.Run("symlinks to outside, overwrite replaces the links", func(t *testing.T) {
		s, run := setup(t)
		mustSymlink(t, filepath.Join(s.outside, "passwd"), filepath.Join(s.out, "model.bin"))
		mustSymlink(t, filepath.Join(s.outside, "dir"), filepath.Join(s.out, "sub"))
		if _, err := run(Options{Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		got := tree(t, s.out, false)
		diffTrees(t, map[string]string{"model.bin": "file " + sha("new weights"), "sub": "dir", "sub/x": "file " + sha("sub file")}, got)
		s.check(t)
	})
	t.Run("regular file", func(t *testing.T) {
		s, run := setup(t)
		if err := os.WriteFile(filepath.Join(s.out, "model.bin"), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := run(Options{})
		if !isErr(err, ErrExists) || !strings.HasSuffix(strings.SplitN(err.Error(), ";", 2)[0], "out/model.bin exists") {
			t.Fatalf("error %v, want ErrExists naming out/model.bin", err)
		}
		if b, _ := os.ReadFile(filepath.Join(s.out, "model.bin")); string(b) != "old" {
			t.Errorf("model.bin changed to %q without --overwrite", b)
		}
		noFinalNames(t, s.out, "model.bin")
		if _, err := run(Options{Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(s.out, "model.bin")); string(b) != "new weights" {
			t.Errorf("model.bin is %q after --overwrite", b)
		}
		s.check(t)
	})
	t.Run("existing directories are merged", func(t *testing.T) {
		s, run := setup(t)
		if err := os.MkdirAll(filepath.Join(s.out, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.out, "sub", "keep"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := run(Options{}); err != nil {
			t.Fatal(err)
		}
		diffTrees(t, map[string]string{
			"model.bin": "file " + sha("new weights"), "sub": "dir", "sub/x": "file " + sha("sub file"), "sub/keep": "file " + sha("mine"),
		}, tree(t, s.out, false))
	})
	t.Run("directory is never replaced by a file", func(t *testing.T) {
		s, run := setup(t)
		if err := os.MkdirAll(filepath.Join(s.out, "model.bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := run(Options{Overwrite: true})
		if !isErr(err, ErrExists) || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("error %v, want ErrExists: is a directory", err)
		}
	})
}

// os.Root refuses to write through a symlink leading out of the root,
// whatever put it there.
func TestStagingConfinedByRoot(t *testing.T) {
	s := newSandbox(t)
	x := &extraction{o: Options{Dir: s.out}}
	if _, err := x.openDir(); err != nil {
		t.Fatal(err)
	}
	defer x.root.Close()
	mustSymlink(t, filepath.Join(s.outside, "dir"), filepath.Join(s.out, x.stage, "esc"))
	if _, err := x.createFile("esc/f", strings.NewReader("pwned"), 0o644, false, make([]byte, 512)); err == nil {
		t.Error("createFile wrote through a symlink leading outside")
	}
	if err := x.mkdirParent("esc/d/f"); err == nil {
		t.Error("mkdirParent created a directory through a symlink leading outside")
	}
	if err := x.root.Rename(x.stage+"/esc", "../moved"); err == nil {
		t.Error("rename out of the root succeeded")
	}
	s.check(t)
}

// A corrupt or truncated blob in a tar layer fails with a digest or
// size mismatch and leaves no final name.
func TestCorruptTarLayer(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		s := newSandbox(t)
		l := newLayout(t)
		raw := tarBytes(t, dir("t/"), file("t/a", strings.Repeat("payload ", 1000)), file("t/b", "more"))
		b, mt := raw, ocispec.MediaTypeImageLayer
		if compressed {
			b, mt = gzipBytes(t, raw), ocispec.MediaTypeImageLayerGzip
		}
		d := putBlob(t, l, mt, b, map[string]string{ocispec.AnnotationTitle: "t", annotationUnpack: "true"})
		flipByte(t, l, d, len(b)/2)
		m := putManifest(t, l, "v1", nil, rawLayer(t, l, "ok.bin", "fine"), d)
		mustFail(t, l, m, Options{Dir: s.out}, cas.ErrDigestMismatch, d.Digest.String())
		noFinalNames(t, s.out)
		s.check(t)
	}
}

func TestWrongDiffID(t *testing.T) {
	l := newLayout(t)
	raw := tarBytes(t, dir("t/"), file("t/a", "a"))
	d := putBlob(t, l, ocispec.MediaTypeImageLayerGzip, gzipBytes(t, raw), map[string]string{
		ocispec.AnnotationTitle: "t", annotationUnpack: "true", annotationDiffID: "sha256:" + strings.Repeat("0", 64),
	})
	out := filepath.Join(t.TempDir(), "out")
	mustFail(t, l, putManifest(t, l, "v1", nil, d), Options{Dir: out}, cas.ErrDigestMismatch, "uncompressed content")
	noFinalNames(t, out)
}

func mustSymlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
