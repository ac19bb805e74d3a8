//go:build linux

package crash

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestConcurrentWriters is D-44 and D-45: eight processes at a time —
// three tagging, two importing and three packing — change one layout,
// while an export and an extraction read it and gc runs in a loop. Each
// worker runs three rounds, pausing up to 100 ms between them so gc (which
// needs every shared lock gone) gets in, and goes on until gc has run at
// least gcAtLeast times during the work (at most maxRounds). Afterwards every tag is there with the right
// digest (no lost update), verify passes (gc deleted nothing referenced),
// every export is byte-identical to one made alone and every extraction
// complete, and after a final gc no staging is left. The lock files keep
// their inodes while index.json is replaced at every update: locking
// index.json itself could not have serialised the writers.
func TestConcurrentWriters(t *testing.T) {
	tp := newTemplate(t)
	dir := scratchDir(t)
	l := filepath.Join(dir, "L")
	copyTree(t, tp.L0, l)
	h, hTar := filepath.Join(dir, "H"), filepath.Join(dir, "h.tar")
	writeFile(t, filepath.Join(dir, "in", "h.bin"), rtest.Bytes(200<<10, 20))
	must(t, "pack", "-q", h+":h1", filepath.Join(dir, "in", "h.bin"), "--artifact-type", artifactType)
	must(t, "export", "-q", h+":h1", "-o", hTar)
	refTar := filepath.Join(dir, "ref.tar")
	must(t, "export", "-q", l+":v1", "-o", refTar)
	refSum := fileSHA(refTar)
	const rounds, gcAtLeast, maxRounds = 3, 4, 40
	inodes := map[string]uint64{}
	for _, f := range []string{".oci-pack/index.lock", ".oci-pack/gc.lock", "index.json"} {
		inodes[f] = inode(t, filepath.Join(l, f))
	}
	base := tags(t, l)

	var mu sync.Mutex
	want := map[string]string{} // tag → digest
	expect := func(tag, digest string) {
		mu.Lock()
		want[tag] = digest
		mu.Unlock()
	}
	run := func(args ...string) rtest.Result {
		r := rtest.RunIn(t, dir, args...)
		if r.Code != 0 {
			t.Errorf("concurrent %v", r)
		}
		return r
	}

	stop := make(chan struct{})
	var gcRuns atomic.Int32
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			run("gc", "-q", "L")
			gcRuns.Add(1)
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	var during atomic.Int32 // gc runs that ended while workers ran
	worker := func(f func(j int)) {
		wg.Go(func() {
			for j := 0; j < rounds || (during.Load() < gcAtLeast && j < maxRounds); j++ {
				f(j)
				time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
				during.Store(gcRuns.Load())
			}
		})
	}
	for i := range 3 {
		worker(func(j int) {
			tag := fmt.Sprintf("t%d-%d", i, j)
			run("tag", "-q", "L:v0", tag)
			expect(tag, base["v0"])
		})
	}
	for _, tar := range []string{tp.GoodTar, hTar} {
		worker(func(int) { run("import", "-q", tar, "L") })
	}
	for i := range 3 {
		worker(func(j int) {
			tag := fmt.Sprintf("p%d-%d", i, j)
			if err := os.WriteFile(filepath.Join(dir, "in", tag+".bin"), rtest.Bytes(20<<10, uint64(1000*i+j)), 0o644); err != nil {
				t.Error(err)
				return
			}
			r := run("pack", "-q", "L:"+tag, filepath.Join(dir, "in", tag+".bin"), "--artifact-type", artifactType)
			expect(tag, strings.TrimSpace(r.Stdout))
		})
	}
	worker(func(j int) {
		out := filepath.Join(dir, "out", fmt.Sprintf("e%d.tar", j))
		os.MkdirAll(filepath.Dir(out), 0o755)
		if r := run("export", "-q", "L:v1", "-o", out); r.Code == 0 && fileSHA(out) != refSum {
			t.Errorf("[D-45] an export made while gc ran differs from one made alone: %s", out)
		}
	})
	worker(func(j int) {
		out := filepath.Join(dir, "out", fmt.Sprintf("x%d", j))
		if r := run("extract", "-q", "L:v1", "-o", out); r.Code == 0 {
			for name, src := range map[string]string{"a.bin": "a.bin", "d/sub/y.bin": "d/sub/y.bin", "d/x.txt": "d/x.txt"} {
				if fileSHA(filepath.Join(out, name)) != fileSHA(tp.in(src)) {
					t.Errorf("[D-45] an extraction made while gc ran is not complete: %s", filepath.Join(out, name))
				}
			}
		}
	})
	wg.Wait()
	close(stop)
	<-gcDone
	t.Logf("gc ran %d times alongside the workers", during.Load())
	if during.Load() < gcAtLeast {
		t.Errorf("gc ran only %d times while the workers ran (starved by their shared locks?)", during.Load())
	}

	got := tags(t, l)
	for tag, d := range base {
		want[tag] = d
	}
	want["g1"], want["h1"] = tags(t, filepath.Join(tp.Dir, "G"))["g1"], tags(t, h)["h1"]
	for tag, d := range want {
		if got[tag] != d {
			t.Errorf("[D-44] tag %s is %q, want %s (lost update?)", tag, got[tag], d)
		}
	}
	if len(got) != len(want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	rtest.AssertVerify(t, l)
	rtest.Must(t, "gc", "-q", l)
	if st := stagingLeft(l); len(st) > 0 {
		t.Errorf("[I5] staging left after the last gc: %v", st)
	}
	rtest.AssertVerify(t, l)
	for f, ino := range inodes {
		now := inode(t, filepath.Join(l, f))
		switch {
		case f == "index.json" && now == ino:
			t.Errorf("index.json kept its inode %d through every update: was it rewritten in place?", ino)
		case f != "index.json" && now != ino:
			t.Errorf("[I4] %s was replaced (inode %d, was %d): a lock on it no longer excludes the processes that locked the old one", f, now, ino)
		}
	}
}

// TestConcurrentSameImport is D-43 across processes: four imports of the
// same archive into one layout at once all succeed, leave one valid
// index.json with the tag, and no staging.
func TestConcurrentSameImport(t *testing.T) {
	tp := newTemplate(t)
	l := filepath.Join(scratchDir(t), "L")
	copyTree(t, tp.L0, l)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if r := rtest.Run(t, "import", "-q", tp.GoodTar, l); r.Code != 0 {
				t.Errorf("[D-43] %v", r)
			}
		})
	}
	wg.Wait()
	if got, want := tags(t, l)["g1"], tags(t, filepath.Join(tp.Dir, "G"))["g1"]; got != want {
		t.Errorf("g1 is %q, want %s", got, want)
	}
	if bad := badBlobs(l); len(bad) > 0 {
		t.Errorf("[N] %v", bad)
	}
	if st := stagingLeft(l); len(st) > 0 {
		t.Errorf("staging left: %v", st)
	}
	rtest.AssertVerify(t, l)
}

// TestIndexLockIsDedicated is D-44's regression check from the other
// side: index.json updates serialise on .oci-pack/index.lock — with it
// held elsewhere, `tag --no-wait` fails with exit 4 and changes nothing —
// and not on index.json, which a lock holder cannot stop (it is replaced,
// not written in place).
func TestIndexLockIsDedicated(t *testing.T) {
	tp := newTemplate(t)
	l := filepath.Join(scratchDir(t), "L")
	copyTree(t, tp.L0, l)
	old := readFile(filepath.Join(l, "index.json"))

	unlock := flock(t, filepath.Join(l, ".oci-pack", "index.lock"))
	r := rtest.Run(t, "tag", "-q", "--no-wait", l+":v0", "x1")
	rtest.AssertFail(t, r, rtest.ExitConflict, "locked")
	if got := readFile(filepath.Join(l, "index.json")); string(got) != string(old) {
		t.Errorf("[U] index.json changed while its lock was held elsewhere:\n%s", got)
	}
	unlock()

	unlock = flock(t, filepath.Join(l, "index.json"))
	defer unlock()
	rtest.Must(t, "tag", "-q", "--no-wait", l+":v0", "x2")
	if tags(t, l)["x2"] == "" {
		t.Errorf("x2 not tagged")
	}
}

// flock takes an exclusive flock on path (as another process would) and
// returns its release.
func flock(t testing.TB, path string) func() {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		t.Fatalf("flock %s: %v", path, err)
	}
	return func() { f.Close() }
}

// inode is path's inode number.
func inode(t testing.TB, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
