//go:build linux

package crash

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestTagAllOrNothing is I5 for `tag L:REF A B…`: all tags move in one
// index.json update, so a conflict on a later tag (exit 4) leaves
// index.json byte-identical — none of the earlier tags is added — and a
// kill can never leave some of the tags (TestKillSweep/tag).
func TestTagAllOrNothing(t *testing.T) {
	tp := newTemplate(t)
	l := filepath.Join(scratchDir(t), "L")
	copyTree(t, tp.L0, l)
	before := readFile(filepath.Join(l, "index.json"))
	v1 := tags(t, l)["v1"]

	r := rtest.Run(t, "tag", "-q", l+":v0", "new1", "v1", "new2")
	rtest.AssertFail(t, r, rtest.ExitConflict, `"v1"`, v1)
	if got := readFile(filepath.Join(l, "index.json")); !bytes.Equal(got, before) {
		t.Errorf("[U] a conflicting tag command changed index.json:\n%s\nwas %s", got, before)
	}
	if r.Stdout != "" {
		t.Errorf("a failed tag command printed a result: %q", r.Stdout)
	}

	r = rtest.Must(t, "tag", "-q", l+":v0", "new1", "new2")
	got := tags(t, l)
	if got["new1"] != got["v0"] || got["new2"] != got["v0"] || got["v1"] != v1 {
		t.Errorf("after tagging new1 and new2 on v0: %v", got)
	}
	want := l + ":new1 " + got["v0"] + "\n" + l + ":new2 " + got["v0"] + "\n"
	if r.Stdout != want {
		t.Errorf("stdout %q, want %q", r.Stdout, want)
	}
	rtest.AssertVerify(t, l)
	if st := stagingLeft(l); len(st) > 0 {
		t.Errorf("staging left: %v", st)
	}
}
