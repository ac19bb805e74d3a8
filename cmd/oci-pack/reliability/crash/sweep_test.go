//go:build linux

package crash

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// full says whether CRASH_SWEEP=full (make crash) asked for the
// exhaustive run.
func full() bool { return os.Getenv("CRASH_SWEEP") == "full" }

// class is a set of syscalls whose every call is a crash point.
type class struct {
	name  string
	calls []uintptr
}

func classes() []class {
	cs := []class{{"write", sysWrite}, {"fsync", sysFsync}, {"rename", sysRename}, {"unlink", sysUnlink}}
	if full() {
		cs = append(cs, class{"other-file", sysOtherFile})
	}
	return cs
}

// maxPoints stops a sweep that never ends (a command whose syscall count
// keeps growing would otherwise loop forever).
const maxPoints = 5000

// TestKillSweep is D-41: for every command of scenarios() and every
// syscall class, the command is killed with SIGKILL before its Nth call of
// the class, for N = 1, 2, … until a run completes without reaching N.
// After every kill: index.json is byte-equal to the old or the new
// version; every file under blobs/ hashes to its name; verify passes; no
// final output name (export volumes and sidecar, extracted files) holds
// anything but its complete content; the re-run succeeds and gives the
// uninterrupted outcome; and gc then leaves no staging and exactly the
// blobs an uninterrupted run plus gc leaves.
func TestKillSweep(t *testing.T) {
	tp := newTemplate(t)
	var mu sync.Mutex
	var summary []string
	t.Cleanup(func() {
		sort.Strings(summary)
		t.Logf("crash points checked (kill before the Nth call of the class, every N):\n  %s", strings.Join(summary, "\n  "))
	})
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dir := scratchDir(t)
			ex := expect(t, tp, sc, dir)
			for _, c := range classes() {
				t.Run(c.name, func(t *testing.T) {
					n := sweep(t, sc, ex, c, filepath.Join(dir, "w"))
					mu.Lock()
					summary = append(summary, fmt.Sprintf("%-16s %-10s %4d", sc.name, c.name, n))
					mu.Unlock()
				})
			}
		})
	}
}

// sweep runs sc killed at every call of c in turn and returns how many
// crash points it checked. It stops at the first point that breaks an
// invariant.
func sweep(t *testing.T, sc scenario, ex *expected, c class, work string) int {
	for n := 1; n <= maxPoints; n++ {
		resetWorld(t, ex, work)
		r := runTraced(t, work, fault{calls: c.calls, n: n}, ex.args...)
		if !r.Fired {
			if r.Code != 0 {
				t.Fatalf("%s: the run past the last crash point failed: %v", sc.name, r)
			}
			if n == 1 {
				t.Logf("%s makes no %s call", sc.name, c.name)
			}
			return n - 1
		}
		if !r.Killed {
			t.Fatalf("%s: not killed at %s#%d: %v", sc.name, c.name, n, r)
		}
		if !checkCrash(t, sc, ex, work, fmt.Sprintf("%s killed before %s call #%d", sc.name, c.name, n)) {
			return n
		}
	}
	t.Fatalf("%s: more than %d %s calls", sc.name, maxPoints, c.name)
	return 0
}

// checkCrash checks the D-41 invariants on world after a killed run of
// sc, then re-runs it and gcs. at names the crash point in messages. It
// reports whether every check passed.
func checkCrash(t *testing.T, sc scenario, ex *expected, world, at string) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format, append([]any{at}, args...)...)
		ok = false
	}
	l := filepath.Join(world, "L")
	idx := readFile(filepath.Join(l, "index.json"))
	isLayout := fileSHA(filepath.Join(l, "oci-layout")) != "absent"
	switch {
	case bytes.Equal(idx, ex.newIdx), ex.oldIdx != nil && bytes.Equal(idx, ex.oldIdx):
	case sc.fresh && (idx == nil || bytes.Equal(idx, []byte(emptyIndex))):
	default:
		fail("[I3] index.json is neither the old nor the new version (torn or intermediate):\n%s\nold: %s\nnew: %s", idx, ex.oldIdx, ex.newIdx)
	}
	checkBlobs(t, ex, world, isLayout, fail)
	if !isLayout && !sc.fresh {
		fail("L lost its oci-layout")
	}
	for rel, sum := range sc.finals(world) {
		if ex.finals[rel] != sum {
			fail("[N] %s/%s is under a final name but is not the complete output (sha256 %s, complete %s)", sc.out, rel, sum, ex.finals[rel])
		}
	}

	// The plain re-run finishes the job: an extraction killed during its
	// commit left some entries under final names, complete (checked
	// above), and the re-run recognises them as its own (class 3).
	r := rtest.RunIn(t, world, ex.args...)
	if r.Code != 0 {
		fail("[V] the re-run failed: %v", r)
		return false
	}
	if got := readFile(filepath.Join(l, "index.json")); !bytes.Equal(got, ex.newIdx) {
		fail("after the re-run index.json is not the uninterrupted outcome:\n%s\nwant %s", got, ex.newIdx)
	}
	if got := sc.finals(world); !sameMap(got, ex.finals) {
		fail("after the re-run the outputs differ from the uninterrupted run's: %s", diffMap(got, ex.finals))
	}
	if sc.out != "" {
		for rel := range files(filepath.Join(world, sc.out), nil) {
			if isExtractStaging(rel) {
				fail("[I5] the killed extraction's staging is still in the output directory after the re-run: %s/%s", sc.out, rel)
				break
			}
			if strings.HasSuffix(rel, ".partial") {
				fail("[N] %s/%s left after the re-run", sc.out, rel)
			}
		}
	}
	if r := rtest.RunIn(t, world, "gc", "-q", "L"); r.Code != 0 {
		fail("gc after the re-run: %v", r)
		return false
	}
	if st := stagingLeft(l); len(st) > 0 {
		fail("[I5] staging left after the re-run and a gc: %v", st)
	}
	// Exactly the blobs, byte for byte, of an uninterrupted run and a
	// gc (which also means verify would pass again).
	if got := blobSet(l); !sameMap(got, ex.afterGC) {
		fail("after the re-run and a gc the blobs differ from an uninterrupted run's: %s", diffMap(got, ex.afterGC))
	}
	return ok
}

// checkBlobs checks [N] and, if verify, [V] on L after an interrupted or
// failed run: every file under blobs/ is a complete verified blob, and
// verify passes. The blob the command repairs (scenario.rotted) may still
// hold its rotten bytes — never anything but those or the right ones (I6:
// replaced only by verified bytes, atomically); while it does, verify
// must report it and nothing else.
func checkBlobs(t *testing.T, ex *expected, world string, verify bool, fail func(string, ...any)) {
	t.Helper()
	l := filepath.Join(world, "L")
	stillRotten := ex.rotted != "" && blobSet(l)[ex.rotted] == ex.rotten
	var bad []string
	for _, b := range badBlobs(l) {
		if !stillRotten || !strings.HasPrefix(b, "blobs/"+ex.rotted+" ") {
			bad = append(bad, b)
		}
	}
	if len(bad) > 0 {
		fail("[N] files under blobs/ that are not complete verified blobs: %v", bad)
	}
	if !verify {
		return
	}
	r := rtest.RunIn(t, world, "verify", "-q", "L")
	switch {
	case stillRotten && (r.Code != rtest.ExitIntegrity || !strings.Contains(r.Stderr, "1 problem(s)")):
		fail("[V] verify with only the rotten blob left to repair: %v", r)
	case !stillRotten && r.Code != 0:
		fail("[V] verify: %v", r)
	}
}

// emptyIndex is the index.json of a new layout.
const emptyIndex = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`
