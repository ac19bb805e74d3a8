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
)

// unnamedKinds are what can sit at a name the tool opens by itself, other
// than the regular file it expects: each must be refused or ignored, and
// never block or be read without end.
var unnamedKinds = map[string]func(p string) error{
	"FIFO":                 func(p string) error { return syscall.Mkfifo(p, 0o644) },
	"symlink to a FIFO":    func(p string) error { return mkfifoLink(p) },
	"symlink to /dev/zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	"directory":            func(p string) error { return os.Mkdir(p, 0o755) },
}

func mkfifoLink(p string) error {
	if err := syscall.Mkfifo(p+".fifo", 0o644); err != nil {
		return err
	}
	return os.Symlink(filepath.Base(p)+".fifo", p)
}

// watched runs the binary with a 30 s watchdog: a hang is a failure
// (AssertCode reports it), not a stuck test.
func (w *world) watched(t *testing.T, args ...string) rtest.Result {
	t.Helper()
	return rtest.RunWith(t, rtest.Opts{Dir: w.Work, Timeout: 30 * time.Second}, args...)
}

// TestI15_UnnamedFiles: every file the tool opens without the user
// naming it — the sidecar beside an archive, the volumes found beside
// FILE.000, the layout's private stat cache and lock files, a layout's
// index.json read for shell completion — is used only if it is a regular
// file, opened without blocking, and read no further than its size. A
// FIFO, a link to a FIFO or to /dev/zero, or a directory there is refused
// (with an error naming it) or ignored (the stat cache, completion),
// never waited on or read forever.
func TestI15_UnnamedFiles(t *testing.T) {
	w := newWorldWith(t, rtest.Good(t))
	single := filepath.Join(w.In, "single.tar")
	rtest.Must(t, "export", "-q", w.L+":v1", "-o", single)
	split := filepath.Join(w.In, "split.tar")
	rtest.Must(t, "export", "-q", w.L+":v1", "-o", split, "--split-size", "3KiB")
	for kind, plant := range unnamedKinds {
		t.Run("sidecar/"+kind, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "x.tar")
			copyFile(t, single, archive, 0o644)
			if err := plant(archive + ".sha256"); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "T")
			r := w.watched(t, "import", "-q", archive, target)
			rtest.AssertFail(t, r, rtest.ExitIntegrity, "x.tar.sha256", "not a regular file")
			if _, err := os.Stat(target); err == nil {
				t.Error("[U] the layout was created although the archive was refused")
			}
		})
		t.Run("found volume/"+kind, func(t *testing.T) {
			dir := t.TempDir()
			vols := copyVolumes(t, split, filepath.Join(dir, "s.tar"))
			os.Remove(vols[1])
			if err := plant(vols[1]); err != nil {
				t.Fatal(err)
			}
			r := w.watched(t, "import", "-q", vols[0], filepath.Join(dir, "T"))
			rtest.AssertFail(t, r, rtest.ExitIntegrity, "s.tar.001", "regular file")
		})
		t.Run("stat cache/"+kind, func(t *testing.T) {
			l := filepath.Join(t.TempDir(), "L")
			in := w.input(t, "stat-"+strings.ReplaceAll(kind, "/", "_")+".bin", rtest.Bytes(5000, 3))
			rtest.Must(t, "pack", "-q", l+":t", in, "--artifact-type", rtest.ArtifactType)
			cache := filepath.Join(l, ".oci-pack", "statcache.json")
			os.Remove(cache)
			if err := plant(cache); err != nil {
				t.Fatal(err)
			}
			r := w.watched(t, "pack", "-q", l+":t2", in, "--artifact-type", rtest.ArtifactType)
			rtest.AssertCode(t, r, rtest.ExitOK) // a cache that cannot be read is an empty one
			rtest.AssertVerify(t, l)
		})
		t.Run("lock file/"+kind, func(t *testing.T) {
			l := filepath.Join(t.TempDir(), "L")
			rtest.Good(t).WriteDir(t, l)
			lock := filepath.Join(l, ".oci-pack", "gc.lock")
			os.MkdirAll(filepath.Dir(lock), 0o755)
			os.Remove(lock)
			if err := plant(lock); err != nil {
				t.Fatal(err)
			}
			r := w.watched(t, "ls", "-q", l)
			rtest.AssertFail(t, r, rtest.ExitFailure, "gc.lock", "not a regular file")
		})
		t.Run("completion index.json/"+kind, func(t *testing.T) {
			l := filepath.Join(t.TempDir(), "L")
			rtest.Good(t).WriteDir(t, l)
			os.Remove(filepath.Join(l, "index.json"))
			if err := plant(filepath.Join(l, "index.json")); err != nil {
				t.Fatal(err)
			}
			r := w.watched(t, "__complete", l+":")
			rtest.AssertCode(t, r, rtest.ExitOK)
			if strings.TrimSpace(r.Stdout) != "" {
				t.Errorf("completion offered tags from a non-regular index.json: %q", r.Stdout)
			}
		})
	}
}

// TestI15_BoundedVolumeReads: a volume the user names may be a stream (a
// FIFO, a link to /dev/zero), and is read as one; but after the import
// fails, checking the other volumes against the sidecar stops at a
// stream instead of reading it without end (the sidecar declares no
// size), and a regular volume is read no further than its size.
func TestI15_BoundedVolumeReads(t *testing.T) {
	w := newWorldWith(t, rtest.Good(t))
	split := filepath.Join(w.In, "split.tar")
	rtest.Must(t, "export", "-q", w.L+":v1", "-o", split, "--split-size", "3KiB")
	dir := t.TempDir()
	vols := copyVolumes(t, split, filepath.Join(dir, "s.tar"))
	os.Remove(vols[1])
	os.Symlink("/dev/zero", vols[1])
	target := filepath.Join(dir, "T")
	r := w.watched(t, append(append([]string{"import", "-q"}, vols...), target)...)
	t.Logf("exit %d: %s", r.Code, r.Stderr)
	if r.TimedOut || r.Code == 0 {
		t.Fatalf("[I15] import with a /dev/zero volume: %v", r)
	}
	rtest.AssertRSS(t, r)
}

// copyVolumes copies the volumes of split (and its sidecar) to base.NNN
// and base.sha256, and returns the volume paths.
func copyVolumes(t *testing.T, split, base string) []string {
	t.Helper()
	var vols []string
	for i := 0; ; i++ {
		from := split + "." + strings.Repeat("0", 3-len(itoa(uint64(i)))) + itoa(uint64(i))
		if _, err := os.Stat(from); err != nil {
			break
		}
		to := base + from[len(split):]
		copyFile(t, from, to, 0o644)
		vols = append(vols, to)
	}
	if len(vols) < 3 {
		t.Fatalf("want 3 or more volumes of %s, got %d", split, len(vols))
	}
	side, err := os.ReadFile(split + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	side = []byte(strings.ReplaceAll(string(side), filepath.Base(split), filepath.Base(base)))
	if err := os.WriteFile(base+".sha256", side, 0o644); err != nil {
		t.Fatal(err)
	}
	return vols
}
