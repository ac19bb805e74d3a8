//go:build unix

package adversarial

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestG_PrivateDirLinks: a layout handed over with a symlink in its private
// state (cp -a keeps one) — .oci-pack/tmp or .oci-pack/resume leading to
// ../blobs/sha256, which gc empties; .oci-pack or .oci-pack/verified[/ALG]
// leading among the blobs, where locks, staging and records would land;
// blobs/sha256 leading into .oci-pack/tmp, whose entries gc removes —
// is refused by every command (exit 3, one line naming the link and the
// fix): gc deletes no blob, nothing is written among the blobs, and once
// the link is removed the layout verifies.
func TestG_PrivateDirLinks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ at, to string }{
		{".oci-pack/tmp", "../blobs/sha256"},
		{".oci-pack/tmp", "../blobs"},
		{".oci-pack/resume", "../blobs/sha256"},
		{".oci-pack/verified", "../blobs"},
		{".oci-pack/verified/sha256", "../../blobs/sha256"},
		{".oci-pack", "blobs/sha256"},
		{"blobs/sha256", "../.oci-pack/tmp"}, // the blobs moved there: gc took them for stale staging
	} {
		t.Run(c.at+"->"+c.to, func(t *testing.T) {
			t.Parallel()
			w := sabotaged(t, func(w *world) {
				p := filepath.Join(w.L, filepath.FromSlash(c.at))
				if c.at == "blobs/sha256" {
					to := filepath.Join(filepath.Dir(p), filepath.FromSlash(c.to))
					os.RemoveAll(to)
					os.MkdirAll(filepath.Dir(to), 0o755)
					if err := os.Rename(p, to); err != nil {
						t.Fatal(err)
					}
				}
				os.RemoveAll(p)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.Symlink(c.to, p); err != nil {
					t.Fatal(err)
				}
			})
			f := w.input(t, "f.bin", []byte("new"))
			for _, cmd := range [][]string{
				{"gc", "-q", w.L},
				{"import", "-q", w.GoodTar, w.L},
				{"pack", "-q", w.L + ":p", f, "--artifact-type", rtest.ArtifactType},
				{"verify", "-q", w.L},
			} {
				r := w.run(t, cmd...)
				rtest.AssertFail(t, r, rtest.ExitIntegrity, c.at, "symlink", "rm ")
				if c.at != "blobs/sha256" {
					w.Snap.AssertUnchanged(t) // after each: gc deleted no blob
				} else if n := len(w.Good.Blobs); countFiles(t, filepath.Join(w.L, ".oci-pack", "tmp")) != n {
					t.Errorf("%s: the %d blobs moved under .oci-pack/tmp were removed", cmd[0], n)
				}
			}
			w.S.AssertIntact(t)
			p := filepath.Join(w.L, filepath.FromSlash(c.at))
			os.Remove(p)
			if c.at == "blobs/sha256" {
				os.Rename(filepath.Join(filepath.Dir(p), filepath.FromSlash(c.to)), p)
			}
			rtest.AssertVerify(t, w.L)
		})
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n
}
