//go:build linux

package crash

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestFullDisk is D-39 on a real full disk: small tmpfs mounts in a
// private mount namespace (unshare -rm; skipped, with the reason, where
// that is not allowed) holding a copy of L0, and a 24 MiB blob. Imports
// keep a reserve free in proportion to the free space (archive.reserve:
// 1/32, at least 1 MiB, at most 64 MiB): on a 24 MiB tmpfs the budget of
// an import is about 20 MiB and the blob is refused from its declared
// size, while a 14 KB archive imports into an 8 MiB one (issue 12 class
// 9: a fixed 64 MiB reserve refused it); on a 16 MiB one, with
// --max-bytes lifting the budget, the disk really fills.
func TestFullDisk(t *testing.T) {
	tp := newTemplate(t)
	dir := scratchDir(t)
	bigFile := filepath.Join(dir, "big.bin")
	writeFile(t, bigFile, bytes.Repeat([]byte("oci-pack full disk "), 24<<20/19))
	g, bigTar := filepath.Join(dir, "G"), filepath.Join(dir, "big.tar")
	must(t, "pack", "-q", g+":big", bigFile, "--artifact-type", artifactType)
	must(t, "export", "-q", g+":big", "-o", bigTar)

	smallFile, smallTar := filepath.Join(dir, "small.bin"), filepath.Join(dir, "small.tar")
	writeFile(t, smallFile, rtest.Bytes(14<<10, 8))
	must(t, "pack", "-q", g+":small", smallFile, "--artifact-type", artifactType)
	must(t, "export", "-q", g+":small", "-o", smallTar)

	t.Run("import-preflight", func(t *testing.T) {
		d := newDisk(t, tp, filepath.Join(dir, "m24"), "24m")
		r := d.run(t, "import", "-q", bigTar, d.l)
		t.Logf("exit %d: %s", r.Code, r.Stderr)
		rtest.AssertFail(t, r, rtest.ExitFailure, "declares", "bytes free in", "reserve of")
		d.unchanged(t)
		for p, sum := range blobSet(d.view) {
			if _, ok := d.before[p]; !ok && d.size(p) > 1<<20 {
				t.Errorf("the declared-too-large blob was written: %s (%s)", p, sum)
			}
		}
		if r := d.run(t, "import", "-q", tp.GoodTar, d.l); r.Code != 0 {
			t.Errorf("[V] an import that fits the budget: %v", r)
		}
	})
	t.Run("import-small-fs", func(t *testing.T) {
		d := newDisk(t, tp, filepath.Join(dir, "m8"), "8m")
		if r := d.run(t, "import", "-q", smallTar, d.l); r.Code != 0 {
			t.Errorf("a 14 KB import into a file system with MiBs free: %v", r)
		}
		if v := d.run(t, "verify", "-q", d.l); v.Code != 0 {
			t.Errorf("[V] verify: %v", v)
		}
	})
	d := newDisk(t, tp, filepath.Join(dir, "m16"), "16m")
	t.Run("import-ENOSPC", func(t *testing.T) {
		r := d.run(t, "import", "-q", "--max-bytes", "1GiB", bigTar, d.l)
		t.Logf("exit %d: %s", r.Code, r.Stderr)
		rtest.AssertFail(t, r, rtest.ExitFailure, "no space left on device", "sha256:")
		d.unchanged(t)
		// The staging was removed, so the space is free again.
		if r := d.run(t, "import", "-q", "--max-bytes", "1GiB", tp.GoodTar, d.l); r.Code != 0 {
			t.Errorf("[V] an import that fits, after the failed one: %v", r)
		}
		d.oldIdx = readFile(filepath.Join(d.view, "index.json"))
	})
	t.Run("pack-ENOSPC", func(t *testing.T) {
		r := d.run(t, "pack", "-q", d.l+":big", bigFile, "--artifact-type", artifactType)
		t.Logf("exit %d: %s", r.Code, r.Stderr)
		rtest.AssertFail(t, r, rtest.ExitFailure, "no space left on device", "big.bin")
		d.unchanged(t)
	})
	t.Run("extract-preflight", func(t *testing.T) {
		out := filepath.Join(d.mnt, "out")
		r := d.run(t, "extract", "-q", g+":big", "-o", out)
		t.Logf("exit %d: %s", r.Code, r.Stderr)
		rtest.AssertFail(t, r, rtest.ExitFailure, "free space", "nothing was written")
		if got := files(d.fs.View(out), nil); len(got) > 0 {
			t.Errorf("[N] the failed extraction left files: %v", got)
		}
	})
	t.Run("export-ENOSPC", func(t *testing.T) {
		out := filepath.Join(d.mnt, "big.tar")
		r := d.run(t, "export", "-q", g+":big", "-o", out)
		t.Logf("exit %d: %s", r.Code, r.Stderr)
		rtest.AssertFail(t, r, rtest.ExitFailure, "no space left on device", "big.tar")
		for _, p := range []string{out, out + ".partial", out + ".sha256"} {
			if fileSHA(d.fs.View(p)) != "absent" {
				t.Errorf("[N] the failed export left %s", p)
			}
		}
	})
}

// disk is a tmpfs of a given size in a private mount namespace, holding
// a copy of L0 at L.
type disk struct {
	fs     *rtest.Tmpfs
	mnt, l string // as commands inside see them
	view   string // L, as the test sees it
	oldIdx []byte
	before map[string]string
}

func newDisk(t *testing.T, tp *template, mnt, size string) *disk {
	t.Helper()
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	fs, err := rtest.NewTmpfs(t, mnt, size)
	if err != nil {
		t.Skipf("no real full disk here: %v", err)
	}
	d := &disk{fs: fs, mnt: mnt, l: filepath.Join(mnt, "L")}
	fs.Exec(t, "cp", "-a", tp.L0, d.l)
	d.view = fs.View(d.l)
	d.oldIdx, d.before = readFile(filepath.Join(d.view, "index.json")), blobSet(d.view)
	return d
}

// run runs the binary inside the namespace.
func (d *disk) run(t testing.TB, args ...string) rtest.Result {
	t.Helper()
	return rtest.RunWith(t, rtest.Opts{Wrap: d.fs.Wrap}, args...)
}

// size is the size of blob p (blobs/-relative) in L.
func (d *disk) size(p string) int64 {
	fi, err := os.Stat(filepath.Join(d.view, "blobs", p))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// unchanged checks [U] and [V] on L after a failed command: index.json
// as before, every blob complete, no staging (so its space is given
// back), verify passes.
func (d *disk) unchanged(t *testing.T) {
	t.Helper()
	if idx := readFile(filepath.Join(d.view, "index.json")); !bytes.Equal(idx, d.oldIdx) {
		t.Errorf("[U] index.json changed:\n%s", idx)
	}
	if bad := badBlobs(d.view); len(bad) > 0 {
		t.Errorf("[N] incomplete blobs: %v", bad)
	}
	if st := stagingLeft(d.view); len(st) > 0 {
		t.Errorf("[U] staging left (its space is not given back): %v", st)
	}
	if v := d.run(t, "verify", "-q", d.l); v.Code != 0 {
		t.Errorf("[V] verify: %v", v)
	}
}

// TestFileTooLarge is a FAT32-like file size limit (RLIMIT_FSIZE, the
// EFBIG a FAT32 stick gives past 4 GiB - 1): an export larger than the
// limit fails cleanly, leaving no archive and no .partial, and
// --split-size below the limit gets it through.
func TestFileTooLarge(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is missing")
	}
	tp := newTemplate(t)
	dir := scratchDir(t)
	l := filepath.Join(dir, "L")
	copyTree(t, tp.L0, l)
	limit := []string{prlimit, "--fsize=1048576", "--"}
	out := filepath.Join(dir, "x.tar")
	r := rtest.RunWith(t, rtest.Opts{Wrap: limit}, "export", "-q", l+":v1", "-o", out)
	t.Logf("exit %d: %s", r.Code, r.Stderr)
	rtest.AssertFail(t, r, rtest.ExitFailure, "file too large", "x.tar")
	for _, p := range []string{out, out + ".partial", out + ".sha256"} {
		if fileSHA(p) != "absent" {
			t.Errorf("[N] the failed export left %s", p)
		}
	}
	r = rtest.RunWith(t, rtest.Opts{Wrap: limit}, "export", "-q", l+":v1", "-o", out, "--split-size", "1MiB")
	if r.Code != 0 {
		t.Fatalf("a split export within the limit: %v", r)
	}
	vols, _ := filepath.Glob(out + ".0*")
	if len(vols) < 3 {
		t.Errorf("want at least 3 volumes of 1 MiB, got %v", vols)
	}
	l2 := filepath.Join(dir, "L2")
	if r := rtest.Run(t, "import", "-q", vols[0], l2); r.Code != 0 {
		t.Fatalf("import the volumes: %v", r)
	}
	if got, want := tags(t, l2)["v1"], tags(t, l)["v1"]; got != want || !strings.HasPrefix(got, "sha256:") {
		t.Errorf("v1 after the round trip through volumes: %q, want %q", got, want)
	}
}
