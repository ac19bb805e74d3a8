//go:build unix

package adversarial

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestG_KeyGenerateOutputs: `key generate --output-key-prefix P` never
// replaces what is at P.key or P.pub — a regular file, a symlink (to a
// file or to /dev/null), a FIFO — (exit 4, left as it was, no hang); the
// private key is 0600 whatever the umask; and a prefix whose directory
// is, or leads through a symlink into, an OCI layout is refused (exit 2):
// a private key never enters a layout (I17); a prefix naming a directory
// ("keys/") is a usage error, not the hidden files keys/.key and .pub.
func TestG_KeyGenerateOutputs(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	env := []string{"OCI_PACK_PASSWORD=g-test"}
	keygen := func(prefix string) rtest.Result {
		return rtest.RunWith(t, rtest.Opts{Dir: w.Work, Env: env, Wrap: []string{"sh", "-c", `umask 000; exec "$@"`, "sh"}},
			"key", "generate", "-q", "--output-key-prefix", prefix)
	}
	for _, c := range []struct {
		name  string
		plant func(p string)
	}{
		{"regular file", func(p string) { os.WriteFile(p, []byte("my old key"), 0o600) }},
		{"symlink to a file", func(p string) {
			os.WriteFile(p+".real", []byte("my old key"), 0o600)
			os.Symlink(filepath.Base(p)+".real", p)
		}},
		{"symlink to /dev/null", func(p string) { os.Symlink("/dev/null", p) }},
		{"FIFO", func(p string) { syscall.Mkfifo(p, 0o600) }},
	} {
		for _, ext := range []string{".key", ".pub"} {
			prefix := filepath.Join(w.In, strings.NewReplacer(" ", "-", "/", "_").Replace(c.name)+ext[1:])
			c.plant(prefix + ext)
			before := identity(t, prefix+ext)
			r := keygen(prefix)
			rtest.AssertFail(t, r, rtest.ExitConflict, prefix+ext)
			if got := identity(t, prefix+ext); got != before {
				t.Errorf("%s at %s: replaced: %s, was %s", c.name, ext, got, before)
			}
			other := map[string]string{".key": ".pub", ".pub": ".key"}[ext]
			if _, err := os.Lstat(prefix + other); err == nil {
				t.Errorf("%s at %s: %s was written although the pair was refused", c.name, ext, prefix+other)
			}
		}
	}
	// umask 000: the private key is still 0600.
	prefix := filepath.Join(w.In, "fresh")
	if r := keygen(prefix); r.Code != 0 {
		t.Fatalf("key generate: %v", r)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v (%v), want 0600 under umask 000", fi.Mode(), err)
	}
	// A directory inside a layout, named or reached through a symlink.
	link := filepath.Join(w.In, "keys")
	os.Symlink(filepath.Join(w.L, "blobs", "sha256"), link)
	for _, p := range []string{filepath.Join(w.L, "k"), filepath.Join(w.L, "blobs", "k"), filepath.Join(link, "k")} {
		r := keygen(p)
		rtest.AssertFail(t, r, rtest.ExitUsage, "inside the OCI layout")
	}
	// A prefix that names a directory, not a file name prefix.
	for _, p := range []string{w.In + "/", w.In + "/.", w.In + "/.."} {
		rtest.AssertFail(t, keygen(p), rtest.ExitUsage, "prefix")
	}
	if _, err := os.Lstat(filepath.Join(w.In, ".key")); err == nil {
		t.Error("a hidden .key was written for a directory prefix")
	}
	w.Snap.AssertUnchanged(t)
	w.S.AssertIntact(t)
}
