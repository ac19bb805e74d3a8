//go:build unix

package adversarial

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tar-directory layer annotations (ORAS).
const (
	mediaTypeTar  = "application/vnd.oci.image.layer.v1.tar"
	annUnpack     = "io.deis.oras.content.unpack"
	annModelPath  = "org.cncf.model.filepath"
	modelWeightMT = "application/vnd.cncf.model.weight.v1.raw"
)

// tarLayer is an uncompressed tar-directory layer of entries titled title
// (unpack=true), as oras and oci-pack write them.
func tarLayer(t testing.TB, f *rtest.Fixture, title string, entries ...rtest.Entry) ocispec.Descriptor {
	t.Helper()
	b := rtest.Tar(t, entries...)
	return ocispec.Descriptor{MediaType: mediaTypeTar, Digest: f.Put(b), Size: int64(len(b)),
		Annotations: map[string]string{rtest.TitleKey: title, annUnpack: "true"}}
}

// withLayers is good/ with v1's layers replaced by layers.
func withLayers(t testing.TB, layers ...func(f *rtest.Fixture) ocispec.Descriptor) *rtest.Fixture {
	t.Helper()
	f := rtest.Good(t)
	f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
		m.Layers = nil
		for _, l := range layers {
			m.Layers = append(m.Layers, l(f))
		}
	})
	return f
}

// rawLayer is a raw file layer with annotations ann.
func rawLayer(body string, ann map[string]string) func(f *rtest.Fixture) ocispec.Descriptor {
	return func(f *rtest.Fixture) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: rtest.LayerType, Digest: f.Put([]byte(body)), Size: int64(len(body)), Annotations: ann}
	}
}

// extractWorld is a world whose L holds f; extraction runs with the
// working directory at the sentinel parent, which holds "secret" (so a
// relative hardlink target "secret" resolved against the CWD would hit
// it, GHSA-fxhp-mv3v-67qp).
func extractWorld(t *testing.T, f *rtest.Fixture) *world {
	t.Helper()
	w := newWorldWith(t, f)
	w.Work = w.Dir
	return w
}

// extractRejected runs extract of L:v1 into OUT and checks [E] with code
// and says, nothing written to OUT [N], the sentinel intact and no OUT
// file sharing an inode with it [C], [M], L untouched and verifying [U][V].
func (w *world) extractRejected(t *testing.T, code int, says ...string) rtest.Result {
	t.Helper()
	r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
	t.Logf("exit %d: %s", r.Code, r.Stderr)
	rtest.AssertFail(t, r, code, says...)
	assertEmptyDir(t, w.Out)
	w.S.AssertIntact(t)
	w.S.AssertNoSharedInode(t, w.Out)
	w.S.AssertNotLeaked(t, []string{w.Out}, r.Stdout, r.Stderr)
	rtest.AssertRSS(t, r)
	rtest.AssertNoStaging(t, w.L, w.Out)
	w.Snap.AssertUnchanged(t)
	rtest.AssertVerify(t, w.L)
	return r
}

// TestE46_HostileTitles: title (and org.cncf.model.filepath) annotations
// that are not local paths — ../../.bashrc, /etc/cron.d/x, a/../../x, ".",
// "..", "", a NUL, a 300-byte component — are refused naming the layer
// and the title, before any file (even the good layer's) is written. On
// Linux, C:\Windows\x, \\host\share\x, CON, NUL.txt and names ending in a
// dot or space are ordinary names: written as exactly one file in OUT.
func TestE46_HostileTitles(t *testing.T) {
	t.Parallel()
	bad := []string{"../../.bashrc", "../.bashrc", "/etc/cron.d/x", "a/../../x", ".", "..", "", "a\x00b", "x/" + strings.Repeat("c", 300), "./../x", "a/./../../x"}
	for _, title := range bad {
		for _, key := range []string{rtest.TitleKey, annModelPath} {
			t.Run(fmt.Sprintf("%s=%.20q", key[strings.LastIndex(key, ".")+1:], title), func(t *testing.T) {
				t.Parallel()
				mt := rtest.LayerType
				if key == annModelPath {
					mt = modelWeightMT
				}
				f := withLayers(t, rawLayer("good", map[string]string{rtest.TitleKey: "good.bin"}), func(f *rtest.Fixture) ocispec.Descriptor {
					d := rawLayer(w46Body, map[string]string{key: title})(f)
					d.MediaType = mt
					return d
				})
				w := extractWorld(t, f)
				q := fmt.Sprintf("%q", title)
				if len(q) > 40 {
					q = q[:40]
				}
				w.extractRejected(t, rtest.ExitIntegrity, "layer 1", q)
			})
		}
	}
	for _, title := range []string{`C:\Windows\x`, `\\host\share\x`, "CON", "NUL.txt", "trail.", "trail "} {
		t.Run("linux-ordinary/"+title, func(t *testing.T) {
			t.Parallel()
			w := extractWorld(t, withLayers(t, rawLayer(w46Body, map[string]string{rtest.TitleKey: title})))
			r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
			if r.Code != 0 {
				rtest.AssertFail(t, r, rtest.ExitIntegrity, fmt.Sprintf("%q", title))
				assertEmptyDir(t, w.Out)
			} else if got := listTree(t, w.Out); len(got) != 1 || !strings.HasPrefix(got[0], title+" ") {
				t.Errorf("title %q extracted as %q, want exactly one file of that name", title, got)
			}
			w.S.AssertIntact(t)
		})
	}
}

const w46Body = "echo pwned\n"

// TestE47_TarLinkTricks: the containerd TestBreakouts and oras-go advisory
// cases in a tar-directory layer. Every one is refused naming the entry,
// or (by policy) stores a link that is never followed: the sentinel tree
// is unchanged and no file in OUT shares an inode with it.
func TestE47_TarLinkTricks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		entries func(s *rtest.Sentinel) []rtest.Entry
	}{
		{"symlink-to-dir-then-file", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Symlink("d/x", s.Path("etc")), rtest.Reg("d/x/passwd", []byte("pwned"))}
		}},
		{"relative-chain-GHSA-m37j", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Symlink("d/a", "b/.."), rtest.Symlink("d/b", "../.."), rtest.Reg("d/a/x", []byte("pwned"))}
		}},
		{"symlink-dot-CVE-2021-29136", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Symlink("d/.", s.Path("tmp")), rtest.Reg("d/x", []byte("pwned"))}
		}},
		{"dir-then-symlink-then-file", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Dir("d/sub/"), rtest.Symlink("d/sub", s.Path("tmp")), rtest.Reg("d/sub/x", []byte("pwned"))}
		}},
		{"hardlink-escape", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Hardlink("d/h", "../../etc/passwd")}
		}},
		{"hardlink-absolute", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Hardlink("d/h", s.Path("secret"))}
		}},
		{"hardlink-cwd-GHSA-fxhp", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Hardlink("d/h", "secret")}
		}},
		{"hardlink-to-symlink-CVE-2021-32760", func(s *rtest.Sentinel) []rtest.Entry {
			h := rtest.Hardlink("d/h", "d/s")
			h.Hdr.Mode = 0o777
			return []rtest.Entry{rtest.Dir("d/"), rtest.Symlink("d/s", s.Path("secret")), h}
		}},
		{"symlink-then-hardlink-through-it", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Symlink("d/l", s.Parent), rtest.Hardlink("d/h", "d/l/secret")}
		}},
		{"symlink-then-file-through-it", func(s *rtest.Sentinel) []rtest.Entry {
			return []rtest.Entry{rtest.Dir("d/"), rtest.Symlink("d/l", "../../"), rtest.Reg("d/l/x", []byte("pwned"))}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := extractWorld(t, rtest.Good(t))
			f := withLayers(t, func(f *rtest.Fixture) ocispec.Descriptor { return tarLayer(t, f, "d", c.entries(w.S)...) })
			os.RemoveAll(w.L)
			f.WriteDir(t, w.L)
			w.Snap = rtest.Snap(t, w.L)
			r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
			t.Logf("exit %d: %s", r.Code, r.Stderr)
			if r.Code != 0 {
				rtest.AssertFail(t, r, rtest.ExitIntegrity, `"d/`)
				assertEmptyDir(t, w.Out)
			} else {
				assertNoLinkOut(t, w.Out)
			}
			w.S.AssertIntact(t)
			w.S.AssertNoSharedInode(t, w.Out)
			w.S.AssertNotLeaked(t, []string{w.Out}, r.Stdout, r.Stderr)
			rtest.AssertNoStaging(t, w.L, w.Out)
			w.Snap.AssertUnchanged(t)
		})
	}
}

// assertNoLinkOut checks that every symlink under dir points inside it.
func assertNoLinkOut(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		target, _ := os.Readlink(p)
		abs := target
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(filepath.Dir(p), target)
		}
		if rel, err := filepath.Rel(dir, abs); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("[C] extract left %s → %s, a symlink out of OUT", p, target)
		}
		return nil
	})
}

// TestE49_ExistingState: OUT/a.bin a symlink to a host file, OUT/sub a
// symlink to a host directory, OUT/a.bin an existing file with other
// content: refused (exit 4, nothing written) unless --overwrite, which
// replaces the link itself, never its target, and never writes through a
// symlinked parent. A case-insensitive OUT needs a fat/exFAT mount: where
// none is available, A.bin and a.bin on a case-sensitive OUT both land.
func TestE49_ExistingState(t *testing.T) {
	t.Parallel()
	mk := func(t *testing.T) *world {
		f := withLayers(t, rawLayer("new a", map[string]string{rtest.TitleKey: "a.bin"}), rawLayer("new x", map[string]string{rtest.TitleKey: "sub/x.bin"}))
		return extractWorld(t, f)
	}
	t.Run("file-symlink", func(t *testing.T) {
		t.Parallel()
		w := mk(t)
		os.MkdirAll(w.Out, 0o755)
		os.Symlink(w.S.Path("etc/passwd"), filepath.Join(w.Out, "a.bin"))
		r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
		rtest.AssertFail(t, r, rtest.ExitConflict, "a.bin", "symlink")
		if _, err := os.Lstat(filepath.Join(w.Out, "sub")); err == nil {
			t.Errorf("[N] a refused extract wrote sub/")
		}
		w.S.AssertIntact(t)
		if r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out, "--overwrite"); r.Code != 0 {
			t.Fatalf("--overwrite: %v", r)
		}
		fi, err := os.Lstat(filepath.Join(w.Out, "a.bin"))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("--overwrite left a.bin as %v (%v), want the link replaced by a file", fi.Mode(), err)
		}
		w.S.AssertIntact(t)
	})
	t.Run("parent-symlink", func(t *testing.T) {
		t.Parallel()
		w := mk(t)
		os.MkdirAll(w.Out, 0o755)
		os.Symlink(w.S.Path("tmp"), filepath.Join(w.Out, "sub"))
		for _, extra := range [][]string{nil, {"--overwrite"}} {
			r := w.run(t, append([]string{"extract", "-q", w.L + ":v1", "-o", w.Out}, extra...)...)
			t.Logf("%v: exit %d: %s", extra, r.Code, r.Stderr)
			if r.Code == 0 {
				if fi, err := os.Lstat(filepath.Join(w.Out, "sub")); err != nil || !fi.IsDir() {
					t.Errorf("extract %v succeeded but sub is %v (%v)", extra, fi.Mode(), err)
				}
			} else {
				rtest.AssertFail(t, r, rtest.ExitConflict, "sub")
			}
			w.S.AssertIntact(t)
		}
	})
	t.Run("existing-file", func(t *testing.T) {
		t.Parallel()
		w := mk(t)
		write(t, filepath.Join(w.Out, "a.bin"), "old a")
		r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
		rtest.AssertFail(t, r, rtest.ExitConflict, "a.bin", "--overwrite")
		if b, _ := os.ReadFile(filepath.Join(w.Out, "a.bin")); string(b) != "old a" {
			t.Errorf("a refused extract changed a.bin to %q", b)
		}
		if _, err := os.Lstat(filepath.Join(w.Out, "sub")); err == nil {
			t.Errorf("[N] a refused extract wrote sub/")
		}
		if r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out, "--overwrite"); r.Code != 0 {
			t.Fatalf("--overwrite: %v", r)
		}
		if b, _ := os.ReadFile(filepath.Join(w.Out, "a.bin")); string(b) != "new a" {
			t.Errorf("--overwrite left a.bin %q", b)
		}
	})
	t.Run("case-collision", func(t *testing.T) {
		t.Parallel()
		f := withLayers(t, rawLayer("upper", map[string]string{rtest.TitleKey: "A.bin"}), rawLayer("lower", map[string]string{rtest.TitleKey: "a.bin"}))
		w := extractWorld(t, f)
		if caseInsensitive(t, w.In) {
			r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
			rtest.AssertFail(t, r, rtest.ExitIntegrity, "A.bin", "a.bin", "collide")
			assertEmptyDir(t, w.Out)
			return
		}
		r := w.run(t, "extract", "-q", w.L+":v1", "-o", w.Out)
		if r.Code != 0 {
			t.Fatalf("extract of A.bin and a.bin on a case-sensitive file system: %v", r)
		}
		if got := listTree(t, w.Out); len(got) != 2 {
			t.Errorf("extracted %q, want A.bin and a.bin", got)
		}
		t.Log("the case-insensitive half needs a fat/exFAT mount; this file system is case-sensitive")
	})
}

// caseInsensitive reports whether dir's file system folds case.
func caseInsensitive(t testing.TB, dir string) bool {
	p := filepath.Join(dir, "CaseProbe")
	os.WriteFile(p, nil, 0o644)
	defer os.Remove(p)
	_, err := os.Stat(filepath.Join(dir, "caseprobe"))
	return err == nil
}
