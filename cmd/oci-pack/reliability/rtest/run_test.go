package rtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// TestGoodFixture: good/ as a directory verifies, and as an archive
// imports into an empty layout with v1 on the same digest; the helpers see
// what they should.
func TestGoodFixture(t *testing.T) {
	dir := t.TempDir()
	good := Good(t)
	L := good.WriteDir(t, filepath.Join(dir, "good"))
	AssertVerify(t, L)
	tarPath := WriteFile(t, filepath.Join(dir, "good.tar"), good.Tar(t))
	dst := filepath.Join(dir, "L")
	Must(t, "init", "-q", dst)
	s := NewSentinel(t, dir, "L", "good", "good.tar")
	snap := Snap(t, dst)
	r := Must(t, "import", "-q", tarPath, dst)
	if r.PeakRSSKB <= 0 {
		t.Errorf("peak RSS not measured: %v", r)
	}
	AssertRSS(t, r)
	AssertVerify(t, dst)
	AssertNoStaging(t, dst)
	s.AssertIntact(t)
	s.AssertNotLeaked(t, []string{dst}, r.Stdout, r.Stderr)
	if Snap(t, dst).IndexSHA == snap.IndexSHA {
		t.Error("import did not change index.json")
	}
	if got := Run(t, "receipt", dst); got.Code != 0 || !strings.Contains(got.Stdout, good.Tagged(t, "v1").Digest.String()) {
		t.Errorf("receipt after import: %v", got)
	}
	// The sentinel sees a change outside the target.
	os.WriteFile(s.Path("x"), []byte("changed"), 0o600)
	ft := &fakeT{TB: t}
	s.AssertIntact(ft)
	if !ft.failed {
		t.Error("AssertIntact missed a changed sentinel")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Helper()               {}
