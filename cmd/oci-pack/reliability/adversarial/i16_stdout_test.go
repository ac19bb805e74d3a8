//go:build unix

package adversarial

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestI16_LostStdout: a command whose results are lost — stdout is a full
// disk (/dev/full) or a pipe whose reader has gone — fails with exit 1
// and says so on stderr, whichever print lost them; it is never killed by
// SIGPIPE halfway and never exits 0. A command that changed the layout
// before its report was lost says the change itself was committed.
func TestI16_LostStdout(t *testing.T) {
	w := newWorldWith(t, rtest.Good(t))
	in := w.input(t, "p.bin", rtest.Bytes(3000, 7))
	cmds := []struct {
		args    []string
		commits bool
	}{
		{[]string{"ls", w.L}, false},
		{[]string{"ls", "--format", "json", w.L}, false},
		{[]string{"inspect", w.L + ":v1"}, false},
		{[]string{"receipt", w.L}, false},
		{[]string{"verify", w.L}, false},
		{[]string{"du", w.L}, false},
		{[]string{"export", w.L + ":v1", "-o", "-"}, false},
		{[]string{"completion", "bash"}, false},
		{[]string{"pack", w.L + ":p-SINK", in, "--artifact-type", rtest.ArtifactType}, true},
		{[]string{"tag", w.L + ":v1", "t-SINK"}, true}, // a new tag each time: a change to commit
	}
	sinks := map[string]func(t *testing.T) *os.File{
		"/dev/full": func(t *testing.T) *os.File {
			f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skip(err)
			}
			return f
		},
		"closed pipe": func(t *testing.T) *os.File {
			r, wr, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close() // the reader is gone
			return wr
		},
	}
	says := map[string]string{"/dev/full": "no space left on device", "closed pipe": "broken pipe"}
	for sink, open := range sinks {
		for _, c := range cmds {
			t.Run(sink+"/"+strings.Join(c.args[:1], " "), func(t *testing.T) {
				out := open(t)
				defer out.Close()
				args := make([]string, len(c.args))
				for i, a := range c.args {
					args[i] = strings.ReplaceAll(a, "SINK", strings.NewReplacer("/", "", " ", "-").Replace(sink))
				}
				r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Stdout: out, Timeout: 30 * time.Second}, append(args, "-q")...)
				want := []string{says[sink]}
				if c.commits {
					want = append(want, "committed")
				}
				rtest.AssertFail(t, r, rtest.ExitFailure, want...)
			})
		}
	}
	rtest.AssertVerify(t, w.L)
	rtest.AssertNoStaging(t, w.L)
}

// TestI16_ReplacedFileKeepsMode (class 8): under umask 077 every command
// that replaces index.json keeps its mode, so other users' readers (a
// loader, skopeo) can still read the layout.
func TestI16_ReplacedFileKeepsMode(t *testing.T) {
	w := newWorldWith(t, rtest.Good(t))
	idx := filepath.Join(w.L, "index.json")
	if err := os.Chmod(idx, 0o644); err != nil {
		t.Fatal(err)
	}
	umask := []string{"sh", "-c", `umask 077; exec "$0" "$@"`}
	in := w.input(t, "p.bin", rtest.Bytes(3000, 8))
	for _, args := range [][]string{
		{"tag", "-q", w.L + ":v1", "t2"},
		{"untag", "-q", w.L + ":t2"},
		{"pack", "-q", w.L + ":p", in, "--artifact-type", rtest.ArtifactType},
		{"import", "-q", w.GoodTar, w.L, "--tag-conflict", "overwrite"},
	} {
		r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Wrap: umask}, args...)
		rtest.AssertCode(t, r, rtest.ExitOK)
		if fi, err := os.Stat(idx); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("[class 8] after %s under umask 077 index.json is %v, want 0644 kept", args[0], fi.Mode().Perm())
		}
	}
}
