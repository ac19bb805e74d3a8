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

// RELIABILITY I14 (issue 12 class 2): every write is checked against the
// budget its reader applies before it happens, and a layout over a budget
// for any reason can still be repaired with untag, gc and verify.

// manyTags is good/ with n more tags on v1's manifest, each entry carrying
// a 100 KB annotation, so a few dozen fill index.json's budget.
func manyTags(t *testing.T, prefix string, n int) *rtest.Fixture {
	f := rtest.Good(t)
	v1 := f.Tagged(t, "v1")
	for i := range n {
		d := v1
		d.Annotations = map[string]string{ocispec.AnnotationRefName: longName(prefix, i), "org.example.note": strings.Repeat("n", 100_000)}
		f.Index.Manifests = append(f.Index.Manifests, d)
	}
	return f
}

func longName(prefix string, i int) string { return fmt.Sprintf("%s-%06d", prefix, i) }

// TestI14_ImportsOverflowIndex: two valid imports with many long tags, each
// under the budget, would together leave an index.json over it: the
// second is refused before anything changes, with the numbers.
func TestI14_ImportsOverflowIndex(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.input(t, "a.tar", manyTags(t, "a", 50).Tar(t))
	b := w.input(t, "b.tar", manyTags(t, "b", 50).Tar(t))
	rtest.Must(t, "import", "-q", a, w.L)
	w.Snap = rtest.Snap(t, w.L)
	r := w.run(t, "import", "-q", b, w.L)
	t.Logf("%v", r)
	rtest.AssertFail(t, r, rtest.ExitUsage, "index.json", "8388608")
	w.Snap.AssertUnchanged(t)
	rtest.AssertVerify(t, w.L)
}

// TestI14_RepairOverBudgetLayout: a layout whose index.json is over the
// budget (written by another tool) is refused as corrupt by ordinary
// commands, but untag, gc and verify work on it with the repair
// allowance and say so; tag cannot grow it; once untagged under the
// budget, everything works again.
func TestI14_RepairOverBudgetLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := manyTags(t, "t", 100)
	L := f.WriteDir(t, filepath.Join(dir, "L"))
	if fi, err := os.Stat(filepath.Join(L, "index.json")); err != nil || fi.Size() <= 8<<20 {
		t.Fatalf("fixture index.json: %v, %v; want it over 8 MiB", fi.Size(), err)
	}
	rtest.AssertFail(t, rtest.Run(t, "ls", L), rtest.ExitIntegrity, "index.json")

	r := rtest.Run(t, "verify", L)
	rtest.AssertCode(t, r, rtest.ExitIntegrity)
	for _, s := range []string{"repair allowance", "over the 8388608"} {
		if !strings.Contains(r.Stderr, s) {
			t.Errorf("verify does not say %q:\n%s", s, r.Stderr)
		}
	}
	snap := rtest.Snap(t, L)
	if r := rtest.Run(t, "tag", L+":v1", "one-more"); r.Code == 0 {
		t.Errorf("tag grew an over-budget index.json: %v", r)
	}
	snap.AssertUnchanged(t)

	r = rtest.Run(t, "gc", L)
	rtest.AssertCode(t, r, 0)
	if !strings.Contains(r.Stderr, "repair allowance") {
		t.Errorf("gc does not say it used the repair allowance:\n%s", r.Stderr)
	}
	args := []string{"untag"}
	for i := range 30 {
		args = append(args, L+":"+longName("t", i))
	}
	r = rtest.Run(t, args...)
	rtest.AssertCode(t, r, 0)
	if !strings.Contains(r.Stderr, "repair allowance") {
		t.Errorf("untag does not say it used the repair allowance:\n%s", r.Stderr)
	}
	rtest.Must(t, "ls", L)
	rtest.AssertVerify(t, L)
}
