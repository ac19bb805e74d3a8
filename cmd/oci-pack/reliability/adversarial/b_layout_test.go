//go:build unix

package adversarial

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// sabotaged is a world whose L holds good/ and was then damaged by
// damage; its snapshot and sentinel listing are taken after the damage,
// so [U] and [C] check that commands leave the damage as it is (read-only
// commands never "repair").
func sabotaged(t *testing.T, damage func(w *world)) *world {
	t.Helper()
	w := newWorldWith(t, rtest.Good(t))
	damage(w)
	w.S = rtest.NewSentinel(t, w.Dir, "L", "in", "out")
	w.Snap = rtest.Snap(t, w.L)
	return w
}

// blobPath is d's file in L.
func (w *world) blobPath(d digest.Digest) string {
	return filepath.Join(w.L, filepath.FromSlash(rtest.BlobName(d)))
}

// replaceFile removes p and runs make to put something else there.
func replaceFile(t testing.TB, p string, make func(p string) error) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if err := make(p); err != nil {
		t.Fatal(err)
	}
}

// TestB19_TopLevelFiles: a missing or non-JSON oci-layout, blobs as a
// file, index.json as a directory, a symlink to a secret, a FIFO, or
// missing: verify and ls fail naming the file, never hang on the FIFO,
// never read through the symlink, never repair. A missing oci-layout is
// "not an OCI image layout" (exit 1: the user named a directory that is
// not a layout); every other case has a valid oci-layout and is a corrupt
// layout (exit 3).
func TestB19_TopLevelFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		code   int
		says   []string
		damage func(w *world)
	}{
		{"oci-layout-missing", rtest.ExitFailure, []string{"oci-layout"}, func(w *world) { os.Remove(filepath.Join(w.L, "oci-layout")) }},
		{"oci-layout-not-json", rtest.ExitIntegrity, []string{"oci-layout", "invalid JSON"}, func(w *world) {
			os.WriteFile(filepath.Join(w.L, "oci-layout"), []byte("imageLayoutVersion=1.0.0\n"), 0o644)
		}},
		{"oci-layout-version", rtest.ExitIntegrity, []string{"oci-layout", `"2.0.0"`}, func(w *world) {
			os.WriteFile(filepath.Join(w.L, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644)
		}},
		{"blobs-is-file", rtest.ExitIntegrity, []string{"blobs", "regular file", "expected a directory"}, func(w *world) {
			replaceFile(t, filepath.Join(w.L, "blobs"), func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) })
		}},
		{"index-is-dir", rtest.ExitIntegrity, []string{"index.json", "not a regular file (directory)"}, func(w *world) {
			replaceFile(t, filepath.Join(w.L, "index.json"), func(p string) error { return os.Mkdir(p, 0o755) })
		}},
		{"index-symlink-secret", rtest.ExitIntegrity, []string{"index.json", "not a regular file (symlink)"}, func(w *world) {
			replaceFile(t, filepath.Join(w.L, "index.json"), func(p string) error { return os.Symlink(w.S.Path("etc/passwd"), p) })
		}},
		{"index-fifo", rtest.ExitIntegrity, []string{"index.json", "not a regular file (named pipe)"}, func(w *world) {
			replaceFile(t, filepath.Join(w.L, "index.json"), func(p string) error { return syscall.Mkfifo(p, 0o644) })
		}},
		{"index-missing", rtest.ExitIntegrity, []string{"index.json", "missing"}, func(w *world) { os.Remove(filepath.Join(w.L, "index.json")) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := sabotaged(t, c.damage)
			for _, cmd := range [][]string{{"verify", "-q", w.L}, {"ls", "-q", w.L}, {"export", "-q", w.L, "-o", filepath.Join(w.In, "x.tar")}} {
				r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Timeout: 30 * time.Second}, cmd...)
				rtest.AssertFail(t, r, c.code, c.says...)
				w.S.AssertNotLeaked(t, []string{w.In}, r.Stdout, r.Stderr)
			}
			if _, err := os.Lstat(filepath.Join(w.In, "x.tar")); err == nil {
				t.Errorf("[N] export of a broken layout left x.tar")
			}
			w.Snap.AssertUnchanged(t)
			w.S.AssertIntact(t)
		})
	}
}

// TestB20_TornIndex: index.json cut at 100 bytes, or empty (another tool's
// non-atomic write crashed): refused naming index.json, the offset and the
// likely cause — never treated as empty, so neither import, tag nor pack
// replaces it with an index holding only their own tags.
func TestB20_TornIndex(t *testing.T) {
	t.Parallel()
	for name, n := range map[string]int{"cut-100": 100, "empty": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := sabotaged(t, func(w *world) {
				p := filepath.Join(w.L, "index.json")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, b[:n], 0o644)
			})
			src := w.input(t, "f.bin", []byte("new file"))
			for _, cmd := range [][]string{
				{"verify", "-q", w.L},
				{"ls", "-q", w.L},
				{"import", "-q", w.GoodTar, w.L},
				{"tag", "-q", w.L + "@" + w.Good.Tagged(t, "v1").Digest.String(), "v2"},
				{"pack", "-q", w.L + ":v3", src, "--artifact-type", rtest.ArtifactType},
			} {
				r := w.run(t, cmd...)
				rtest.AssertFail(t, r, rtest.ExitIntegrity, "index.json", "offset", "truncated")
				w.Snap.AssertUnchanged(t)
			}
			w.S.AssertIntact(t)
		})
	}
}

// TestB21_BitRot: one byte of a layer overwritten (USB read error):
// verify lists it with expected and actual digest (and every other
// corrupt blob); extract and export of the tag fail before writing
// anything: no file in OUT, no archive, no .partial.
func TestB21_BitRot(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	m := g.Manifest(t, "v1")
	w := sabotaged(t, func(w *world) {
		for _, l := range m.Layers {
			f, err := os.OpenFile(w.blobPath(l.Digest), os.O_WRONLY, 0)
			if err != nil {
				os.Chmod(w.blobPath(l.Digest), 0o644)
				f, err = os.OpenFile(w.blobPath(l.Digest), os.O_WRONLY, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte{0}, 100)
			f.Close()
		}
	})
	r := w.run(t, "verify", w.L)
	rtest.AssertCode(t, r, rtest.ExitIntegrity)
	for _, l := range m.Layers {
		if !strings.Contains(r.Stderr, l.Digest.String()) {
			t.Errorf("[E] verify does not list corrupt %s:\n%s", l.Digest, r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, "2 problem(s)") {
		t.Errorf("[E] verify does not count 2 problems:\n%s", r.Stderr)
	}
	r = w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, "digest mismatch")
	if !strings.Contains(r.Stderr, m.Layers[0].Digest.String()) && !strings.Contains(r.Stderr, m.Layers[1].Digest.String()) {
		t.Errorf("[E] extract names neither corrupt layer: %s", r.Stderr) // either may be read first
	}
	assertEmptyDir(t, w.Out)
	x := filepath.Join(w.In, "x.tar")
	r = w.run(t, "export", "-q", w.L+":v1", "-o", x)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, "sha256:")
	if _, err := os.Lstat(x); err == nil {
		t.Errorf("[N] export of a corrupt tag left %s", x)
	}
	rtest.AssertNoStaging(t, w.L, w.In, w.Out)
	w.Snap.AssertUnchanged(t)
	w.S.AssertIntact(t)
}

// assertEmptyDir checks that dir is absent or holds nothing.
func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err == nil && len(es) > 0 {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Errorf("[N] %s holds %v after a failed command", dir, names)
	}
}

// TestB23_BlobNotRegular: a blob that is a symlink to a host secret whose
// digest even matches, a symlink to /dev/zero, a FIFO, a hardlink to a
// host file: verify, extract and export refuse it as not a regular file
// (hardlink: at least a warning), never hang, never ship or write the
// secret.
func TestB23_BlobNotRegular(t *testing.T) {
	t.Parallel()
	type bcase struct {
		name   string
		make   func(w *world, p string) error
		hangy  bool
		strict bool // must be refused (a hardlink only needs a warning)
		says   string
	}
	cases := []bcase{
		{"symlink-secret", func(w *world, p string) error { return os.Symlink(w.S.Path("secret"), p) }, false, true, "not a regular file (symlink)"},
		{"symlink-relative-ssh", func(w *world, p string) error { return os.Symlink("../../../home/u/.ssh/id_rsa", p) }, false, true, "not a regular file (symlink)"},
		{"symlink-dev-zero", func(w *world, p string) error { return os.Symlink("/dev/zero", p) }, true, true, "not a regular file (symlink)"},
		{"fifo", func(w *world, p string) error { return syscall.Mkfifo(p, 0o644) }, true, true, "not a regular file (named pipe)"},
		{"hardlink-secret", func(w *world, p string) error { return os.Link(w.S.Path("secret"), p) }, false, false, "hardlink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// The layer's content is the secret file's, so its digest matches.
			var layer ocispec.Descriptor
			w := sabotaged(t, func(w *world) {
				f := rtest.Good(t)
				secret, _ := os.ReadFile(w.S.Path("secret"))
				if c.name == "symlink-relative-ssh" {
					secret, _ = os.ReadFile(w.S.Path("home/u/.ssh/id_rsa"))
				}
				f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
					m.Layers[0].Digest, m.Layers[0].Size = f.Put(secret), int64(len(secret))
					layer = m.Layers[0]
				})
				os.RemoveAll(w.L)
				f.WriteDir(t, w.L)
				replaceFile(t, w.blobPath(layer.Digest), func(p string) error { return c.make(w, p) })
			})
			if c.name == "symlink-relative-ssh" {
				// ../../../home/u/.ssh/id_rsa from L/blobs/sha256 is the sentinel.
				if _, err := os.Stat(w.blobPath(layer.Digest)); err != nil {
					t.Fatalf("fixture: the relative link does not reach the sentinel: %v", err)
				}
			}
			o := rtest.Opts{Dir: w.Work, Timeout: 30 * time.Second}
			x := filepath.Join(w.In, "x.tar")
			results := []rtest.Result{
				rtest.RunWith(t, o, "verify", w.L),
				rtest.RunWith(t, o, "extract", "-q", w.L+":v1", "-o", w.Out),
				rtest.RunWith(t, o, "export", "-q", w.L+":v1", "-o", x),
			}
			for i, r := range results {
				if r.TimedOut {
					t.Errorf("[M] hung: %v", r)
					continue
				}
				rtest.AssertRSS(t, r)
				if !c.strict {
					if r.Code == 0 && !strings.Contains(r.Stderr, c.says) {
						t.Errorf("[E] a blob hardlinked to a host file passes without a warning: %v", r)
					}
					continue
				}
				if i == 0 {
					rtest.AssertCode(t, r, rtest.ExitIntegrity)
					if !strings.Contains(r.Stderr, c.says) || !strings.Contains(r.Stderr, layer.Digest.Encoded()) {
						t.Errorf("[E] verify does not say %q for %s: %v", c.says, layer.Digest, r)
					}
					continue
				}
				rtest.AssertFail(t, r, rtest.ExitIntegrity, c.says, layer.Digest.Encoded())
			}
			if c.strict {
				assertEmptyDir(t, w.Out)
				if _, err := os.Lstat(x); err == nil {
					t.Errorf("[C] export shipped a layout with a non-regular blob: %s exists", x)
				}
			}
			outs := []string{w.In, w.Out}
			var texts []string
			for _, r := range results {
				texts = append(texts, r.Stdout, r.Stderr)
			}
			if c.strict {
				w.S.AssertNotLeaked(t, outs, texts...)
			}
			rtest.AssertNoStaging(t, w.L, w.In, w.Out)
			w.Snap.AssertUnchanged(t)
			w.S.AssertIntact(t)
		})
	}
}

// TestB24_MissingBlob: a layer absent (a sparse layout): verify names it
// as missing (layer 1 of v1), a class of its own; export fails unless
// --allow-missing; extract fails before writing any file.
func TestB24_MissingBlob(t *testing.T) {
	t.Parallel()
	g := rtest.Good(t)
	l1 := g.Manifest(t, "v1").Layers[1]
	w := sabotaged(t, func(w *world) { os.Remove(w.blobPath(l1.Digest)) })
	r := w.run(t, "verify", w.L)
	rtest.AssertCode(t, r, rtest.ExitIntegrity)
	if !strings.Contains(r.Stderr, "missing") || !strings.Contains(r.Stderr, l1.Digest.String()) || !strings.Contains(r.Stderr, "layer 1 of v1") {
		t.Errorf("[E] verify does not say missing blob %s (layer 1 of v1): %v", l1.Digest, r)
	}
	if strings.Contains(r.Stderr, "corrupt") {
		t.Errorf("[E] a missing blob is reported as corrupt: %s", r.Stderr)
	}
	x := filepath.Join(w.In, "x.tar")
	r = w.run(t, "export", "-q", w.L+":v1", "-o", x)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, "missing", l1.Digest.String())
	if _, err := os.Lstat(x); err == nil {
		t.Errorf("[N] failed export left %s", x)
	}
	r = w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, "missing", l1.Digest.String())
	assertEmptyDir(t, w.Out)
	w.Snap.AssertUnchanged(t)
	w.S.AssertIntact(t)
	r = w.run(t, "export", "-q", w.L+":v1", "-o", x, "--allow-missing")
	if r.Code != 0 {
		t.Fatalf("export --allow-missing: %v", r)
	}
	// The delta imports where the layer is already held.
	dst := filepath.Join(w.In, "dst")
	rtest.Good(t).WriteDir(t, dst)
	if r := w.run(t, "import", "-q", x, dst); r.Code != 0 {
		t.Errorf("import of the --allow-missing export where the blob is held: %v", r)
	}
	rtest.AssertVerify(t, dst)
}

// TestB28_StaleState: staging directories of a killed process (with and
// without their lock file), stray staging files, the lock files and a
// *.partial export: commands proceed, verify ignores staging, gc reclaims
// the dead process's staging, and a live process's staging is never
// removed (gc cannot take the layout while an import holds it).
func TestB28_StaleState(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	tmp := filepath.Join(w.L, ".oci-pack", "tmp")
	dead := []string{filepath.Join(tmp, "99999999-deadbeef"), filepath.Join(tmp, "99999998-nolock")}
	for i, d := range dead {
		os.MkdirAll(d, 0o700)
		os.WriteFile(filepath.Join(d, "blob-123.partial"), []byte("half a blob"), 0o600)
		if i == 0 {
			os.WriteFile(filepath.Join(d, ".lock"), nil, 0o600)
		}
	}
	os.WriteFile(filepath.Join(tmp, "index.json.init-abc"), []byte("{"), 0o600)
	os.WriteFile(filepath.Join(w.L, ".oci-pack.lock"), []byte("12345"), 0o644)
	partial := filepath.Join(w.In, "x.tar.partial")
	os.WriteFile(partial, []byte("half an export"), 0o644)

	rtest.AssertVerify(t, w.L)
	if r := w.run(t, "tag", "-q", w.L+":v1", "v1b"); r.Code != 0 {
		t.Errorf("tag with stale state: %v", r)
	}
	x := filepath.Join(w.In, "x.tar")
	if r := w.run(t, "export", "-q", w.L+":v1", "-o", x); r.Code != 0 {
		t.Errorf("export over a stale .partial: %v", r)
	}
	if _, err := os.Lstat(partial); err == nil {
		t.Errorf("[N] export left the stale %s", partial)
	}

	// A live importer: reads its archive from a pipe we hold open.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan rtest.Result, 1)
	go func() {
		done <- rtest.RunWith(t, rtest.Opts{Dir: w.Work, Stdin: pr}, "import", "-q", "-", w.L)
	}()
	good := w.Good.Tar(t)
	pw.Write(good[:1024]) // oci-layout: the importer is now running
	waitFor(t, func() bool { return len(liveStaging(t, tmp, dead)) > 0 })
	live := liveStaging(t, tmp, dead)
	r := w.run(t, "gc", "--no-wait", w.L)
	rtest.AssertFail(t, r, rtest.ExitConflict, "lock")
	for _, d := range live {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("a live importer's staging %s was removed: %v", d, err)
		}
	}
	pw.Write(good[1024:])
	pw.Close()
	if r := <-done; r.Code != 0 {
		t.Errorf("the live import: %v", r)
	}
	pr.Close()

	r = w.run(t, "gc", w.L)
	if r.Code != 0 {
		t.Fatalf("gc: %v", r)
	}
	rtest.AssertNoStaging(t, w.L)
	rtest.AssertVerify(t, w.L)
	w.S.AssertIntact(t)
}

// liveStaging lists staging directories in tmp other than the dead ones.
func liveStaging(t testing.TB, tmp string, dead []string) []string {
	es, _ := os.ReadDir(tmp)
	var out []string
	for _, e := range es {
		p := filepath.Join(tmp, e.Name())
		if e.IsDir() && p != dead[0] && p != dead[1] {
			out = append(out, p)
		}
	}
	return out
}

// waitFor polls cond for up to 30 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for i := 0; i < 3000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timed out waiting")
}
