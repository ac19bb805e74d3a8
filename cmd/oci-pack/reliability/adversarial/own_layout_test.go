//go:build unix

package adversarial

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Own cases, continued: the layout and the command line.

// TestO24_BlobsDirSymlink: L/blobs/sha256 a symlink to a directory outside
// L holding the right blobs: verify refuses it; import, pack and gc never
// write or delete through it.
func TestO24_BlobsDirSymlink(t *testing.T) {
	t.Parallel()
	w := sabotaged(t, func(w *world) {
		elsewhere := filepath.Join(w.Dir, "tmp", "blobs")
		os.MkdirAll(filepath.Dir(elsewhere), 0o755)
		os.Rename(filepath.Join(w.L, "blobs", "sha256"), elsewhere)
		os.Symlink(elsewhere, filepath.Join(w.L, "blobs", "sha256"))
	})
	r := w.run(t, "verify", w.L)
	rtest.AssertCode(t, r, rtest.ExitIntegrity)
	if !strings.Contains(r.Stderr, "blobs/sha256") {
		t.Errorf("[E] verify does not name blobs/sha256: %v", r)
	}
	f := w.input(t, "f.bin", []byte("new"))
	for _, cmd := range [][]string{
		{"import", "-q", filepath.Join(w.In, "good.tar"), w.L},
		{"pack", "-q", w.L + ":p", f, "--artifact-type", rtest.ArtifactType},
		{"gc", "-q", w.L},
	} {
		r := w.run(t, cmd...)
		t.Logf("%s: exit %d: %s", cmd[0], r.Code, r.Stderr)
		if cmd[0] != "gc" && r.Code == 0 {
			t.Errorf("%s through a symlinked blobs/sha256 succeeded", cmd[0])
		}
	}
	w.S.AssertIntact(t) // the real blobs outside L: none added, none deleted
}

// TestO25_CLIDigests: digests given on the command line that are paths or
// malformed are usage errors (exit 2) naming the digest, before any path
// is built (I2).
func TestO25_CLIDigests(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	hexs := w.Good.Tagged(t, "v1").Digest.Encoded()
	for _, d := range []string{"sha256:../../etc/passwd", "SHA256:" + hexs, "sha256:" + hexs[:63], "sha256:" + strings.ToUpper(hexs), "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:"} {
		for _, cmd := range [][]string{{"verify", "-q", w.L, w.L + "@" + d}, {"extract", "-q", w.L + "@" + d, "-o", w.Out}, {"tag", "-q", w.L + "@" + d, "x"}, {"export", "-q", w.L + "@" + d, "-o", filepath.Join(w.In, "x.tar")}} {
			r := w.run(t, cmd...)
			if r.Code != rtest.ExitUsage || !strings.Contains(r.Stderr, "digest") {
				t.Errorf("%s with digest %q: %v, want exit 2 naming the digest", cmd[0], d, r)
			}
		}
	}
	w.Snap.AssertUnchanged(t)
	assertEmptyDir(t, w.Out)
	w.S.AssertIntact(t)
}

// TestO26_CLITags: tags on the command line outside the grammar
// (../../x, a/b/../c, a newline, 200 é, "..", -x) are usage errors
// for tag and pack; no file is ever named after them.
func TestO26_CLITags(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	f := w.input(t, "f.bin", []byte("f"))
	for _, tag := range []string{"../../x", "a/b/../c", "x\ny", strings.Repeat("é", 200), "..", "-x"} {
		r := w.run(t, "tag", "-q", "--", w.L+":v1", tag)
		rtest.AssertFail(t, r, rtest.ExitUsage, "tag")
		r = w.run(t, "pack", "-q", w.L+":"+tag, f, "--artifact-type", rtest.ArtifactType)
		if r.Code != rtest.ExitUsage {
			t.Errorf("pack L:%q: %v, want exit 2", tag, r)
		}
	}
	w.Snap.AssertUnchanged(t)
	w.S.AssertIntact(t)
}

// TestO27_ExportTargets: -o in a missing directory, -o an existing
// directory, -o an existing file: a clear failure leaving no .partial (or,
// for the file, a complete replacement), never a half-written archive.
func TestO27_ExportTargets(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	os.MkdirAll(filepath.Join(w.In, "adir"), 0o755)
	for _, out := range []string{filepath.Join(w.In, "missing", "x.tar"), filepath.Join(w.In, "adir")} {
		r := w.run(t, "export", "-q", w.L+":v1", "-o", out)
		t.Logf("-o %s: exit %d: %s", out, r.Code, r.Stderr)
		if r.Code == 0 {
			t.Errorf("export -o %s succeeded", out)
		} else {
			rtest.AssertOneErrorLine(t, r.Stderr, filepath.Base(out))
		}
	}
	existing := w.input(t, "old.tar", []byte("an old file"))
	r := w.run(t, "export", "-q", w.L+":v1", "-o", existing)
	t.Logf("-o existing: exit %d: %s", r.Code, r.Stderr)
	if b, _ := os.ReadFile(existing); r.Code == 0 {
		if r := w.run(t, "import", "-q", existing, filepath.Join(w.In, "L2")); r.Code != 0 {
			t.Errorf("the archive written over an existing file does not import: %v", r)
		}
	} else if string(b) != "an old file" {
		t.Errorf("a refused export changed the existing file")
	}
	rtest.AssertNoStaging(t, w.L, w.In)
	w.S.AssertIntact(t)
}

// TestO28_TerminalEscapes: an artifactType and annotations carrying
// terminal escape sequences never reach stdout raw through ls or inspect
// (from an imported archive), and pack refuses such an artifact type as
// not a media type (its own verify would reject the manifest).
func TestO28_TerminalEscapes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	esc := "application/x\x1b[2J\x1b]0;pwned\x07"
	f := w.Good.Clone(t)
	f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
		m.ArtifactType = esc
		m.Annotations = map[string]string{"org.opencontainers.image.created": "\x1b[31mred"}
	})
	p := w.input(t, "esc.tar", f.Tar(t))
	r := w.run(t, "import", "-q", p, w.L)
	if r.Code != 0 { // schema-invalid: refused (as verify would flag it)
		rtest.AssertFail(t, r, rtest.ExitIntegrity, "artifactType")
	}
	// The same manifest in a layout another tool wrote: shown escaped.
	dir := f.WriteDir(t, filepath.Join(w.In, "esc"))
	for _, cmd := range [][]string{{"ls", dir}, {"inspect", dir + ":v1"}, {"ls", "--format", "json", dir}} {
		r := w.run(t, cmd...)
		t.Logf("%s: exit %d: %q", cmd[0], r.Code, r.Stdout)
		if strings.ContainsAny(r.Stdout+r.Stderr, "\x1b\x07") {
			t.Errorf("%s prints a raw escape sequence:\n%q", cmd[0], r.Stdout+r.Stderr)
		}
	}
	src := w.input(t, "f.bin", []byte("f"))
	r = w.run(t, "pack", "-q", w.L+":esc", src, "--artifact-type", esc)
	rtest.AssertFail(t, r, rtest.ExitUsage, "not a media type")
	r = w.run(t, "pack", "-q", w.L+":esc", src+":application/\x1b[1mbold", "--artifact-type", rtest.ArtifactType)
	if r.Code == 0 {
		t.Errorf("pack accepted a layer media type with an escape sequence")
	}
}

// TestO29_GCKeepsReferrers: an SBOM attached to v1 survives gc (it is
// reachable as a referrer); after untag and gc, v1's blobs are freed and
// verify still passes.
func TestO29_GCKeepsReferrers(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	sbom := w.input(t, "sbom.json", []byte(`{"spdxVersion":"SPDX-2.3"}`))
	r := w.run(t, "attach", "-q", w.L+":v1", sbom, "--artifact-type", "application/spdx+json")
	if r.Code != 0 {
		t.Fatalf("attach: %v", r)
	}
	ref := strings.TrimSpace(r.Stdout)
	if r := w.run(t, "gc", "-q", w.L); r.Code != 0 {
		t.Fatalf("gc: %v", r)
	}
	r = w.run(t, "referrers", w.L+":v1")
	if r.Code != 0 || !strings.Contains(r.Stdout, ref) {
		t.Errorf("the referrer %s is gone after gc: %v", ref, r)
	}
	rtest.AssertVerify(t, w.L)
	if r := w.run(t, "untag", "-q", w.L+":v1"); r.Code != 0 {
		t.Logf("untag: %v", r)
	}
	if r := w.run(t, "gc", "-q", w.L); r.Code != 0 {
		t.Fatalf("gc after untag: %v", r)
	}
	rtest.AssertVerify(t, w.L)
}

// TestO30_CopyFromHostileLayout: copy from a layout whose layer is a
// symlink to a host secret (with the matching digest): refused, the
// destination unchanged, the secret nowhere in it.
func TestO30_CopyFromHostileLayout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	src := filepath.Join(w.In, "src")
	f := rtest.Good(t)
	secret, _ := os.ReadFile(w.S.Path("secret"))
	var d ocispec.Descriptor
	f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
		m.Layers[0].Digest, m.Layers[0].Size = f.Put(secret), int64(len(secret))
		d = m.Layers[0]
	})
	f.WriteDir(t, src)
	p := filepath.Join(src, "blobs", "sha256", d.Digest.Encoded())
	os.Remove(p)
	os.Symlink(w.S.Path("secret"), p)
	r := w.run(t, "copy", "-q", src+":v1", w.L)
	rtest.AssertFail(t, r, rtest.ExitIntegrity, d.Digest.Encoded(), "symlink")
	w.Snap.AssertUnchanged(t)
	w.S.AssertNotLeaked(t, []string{w.L}, r.Stdout, r.Stderr)
	w.S.AssertIntact(t)
}

// TestO31_LayoutIsAFile: every command given a regular file as LAYOUT
// fails with one line naming it, and never replaces it.
func TestO31_LayoutIsAFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	file := w.input(t, "notalayout", []byte("data"))
	for _, cmd := range [][]string{{"verify", file}, {"ls", file}, {"import", w.GoodTar, file}, {"gc", file}, {"pack", file + ":t", w.GoodTar, "--artifact-type", rtest.ArtifactType}, {"init", file}} {
		r := w.run(t, append([]string{cmd[0], "-q"}, cmd[1:]...)...)
		if r.Code == 0 {
			t.Errorf("%s on a regular file succeeded", cmd[0])
			continue
		}
		rtest.AssertOneErrorLine(t, r.Stderr, "notalayout")
		if b, _ := os.ReadFile(file); string(b) != "data" {
			t.Fatalf("%s replaced the file", cmd[0])
		}
	}
	w.S.AssertIntact(t)
}

// TestO32_URLSpecialWorkingDir: run from a working directory (and with a
// layout) whose path holds "#", "%", "?" and a space — characters with a
// meaning in URLs: import, verify and pack work. (Found by this suite: the
// schema compiler resolved its files against the working directory as a
// URL, and a "#" cut it short, failing every import there.)
func TestO32_URLSpecialWorkingDir(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	odd := filepath.Join(w.In, "a#b %41?c d")
	os.MkdirAll(odd, 0o755)
	L := filepath.Join(odd, "L#1")
	f := w.input(t, "f.bin", []byte("f"))
	for _, cmd := range [][]string{
		{"import", "-q", w.GoodTar, L},
		{"verify", "-q", L},
		{"pack", "-q", L + ":p", f, "--artifact-type", rtest.ArtifactType},
		{"extract", "-q", L + ":v1", "-o", filepath.Join(odd, "out#")},
	} {
		if r := rtest.RunIn(t, odd, cmd...); r.Code != 0 {
			t.Errorf("%s in %q: %v", cmd[0], odd, r)
		}
	}
	rtest.AssertVerify(t, L)
}
