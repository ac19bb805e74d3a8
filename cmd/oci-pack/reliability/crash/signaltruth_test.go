//go:build linux

package crash

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// signalCases are what lands at a crash point: a Ctrl-C and a SIGTERM at
// once (the second forces an exit without waiting for the command to
// unwind), or an ssh session closing (SIGHUP).
var signalCases = []struct {
	name    string
	signals []syscall.Signal
	codes   []int // the exit codes of "interrupted before the commit"
}{
	{"SIGINT+SIGTERM", []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}, []int{130, 143}},
	{"SIGHUP", []syscall.Signal{syscall.SIGHUP}, []int{129}},
}

// TestSignalTruth is I16's signal clauses as a sweep: for pack, tag,
// import, export and extract, at every write, fsync and rename call in
// turn, the signals of signalCases arrive. Whatever the moment, the exit
// tells the truth about the commit: exit 0 if and only if index.json is
// the new version (with a note when the signal came after the commit) and
// the outputs are complete, the signal's code (129, 130, 143) if and only
// if index.json is the old one, never anything else; and no staging and
// no .partial is left either way (SIGHUP cleans up like SIGINT), even
// when the second signal forces an exit without unwinding.
func TestSignalTruth(t *testing.T) {
	tp := newTemplate(t)
	calls := append(append(append([]uintptr(nil), sysWrite...), sysFsync...), sysRename...)
	var mu sync.Mutex
	var summary []string
	t.Cleanup(func() { t.Logf("signals sent (every N):\n  %s", strings.Join(summary, "\n  ")) })
	for _, sc := range scenarios() {
		switch sc.name {
		case "pack", "tag", "import", "export", "extract":
		default:
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dir := scratchDir(t)
			ex := expect(t, tp, sc, dir)
			for _, c := range signalCases {
				t.Run(c.name, func(t *testing.T) {
					work := filepath.Join(dir, "w")
					n := 1
					for ; n <= maxPoints; n++ {
						resetWorld(t, ex, work)
						r := runTraced(t, work, fault{calls: calls, n: n, signals: c.signals}, ex.args...)
						if !r.Fired {
							if r.Code != 0 {
								t.Fatalf("the run past the last call failed: %v", r)
							}
							break
						}
						checkSignalTruth(t, sc, ex, work, r, c.codes, fmt.Sprintf("%s, %s at call #%d", sc.name, c.name, n))
					}
					mu.Lock()
					summary = append(summary, fmt.Sprintf("%-8s %-15s %4d", sc.name, c.name, n-1))
					mu.Unlock()
				})
			}
		})
	}
}

func checkSignalTruth(t *testing.T, sc scenario, ex *expected, world string, r traced, codes []int, at string) {
	t.Helper()
	l := filepath.Join(world, "L")
	idx := readFile(filepath.Join(l, "index.json"))
	isNew := bytes.Equal(idx, ex.newIdx)
	isOld := bytes.Equal(idx, ex.oldIdx) || (sc.fresh && (idx == nil || bytes.Equal(idx, []byte(emptyIndex))))
	interrupted := false
	for _, c := range codes {
		interrupted = interrupted || r.Code == c
	}
	switch {
	case r.Killed:
		t.Errorf("%s: killed: %v", at, r)
	case !isNew && !isOld:
		t.Errorf("%s: [I3] index.json is neither the old nor the new version:\n%s", at, idx)
	case r.Code == 0 && !isNew:
		t.Errorf("%s: [I16] exit 0 but the change is not in place: %v", at, r)
	case interrupted && !isOld:
		t.Errorf("%s: [I16] exit %d (interrupted) but the change was committed: %v", at, r.Code, r)
	case r.Code != 0 && !interrupted:
		t.Errorf("%s: [I16] want exit 0 (committed) or %v (interrupted before the commit): %v", at, codes, r)
	case interrupted && !strings.Contains(r.Stderr, "before the command committed"):
		t.Errorf("%s: [I16] an interrupted run does not say it stopped before the commit: %s", at, r.Stderr)
	}
	if st := stagingLeft(l); len(st) > 0 {
		t.Errorf("%s: [I5] staging left: %v", at, st)
	}
	if sc.out == "" {
		return
	}
	for rel, sum := range files(filepath.Join(world, sc.out), nil) {
		switch {
		case strings.HasSuffix(rel, ".partial"), isExtractStaging(rel):
			t.Errorf("%s: [I5] %s/%s left", at, sc.out, rel)
		case ex.finals[rel] != sum:
			t.Errorf("%s: [N] %s/%s is under a final name but is not the complete output", at, sc.out, rel)
		}
	}
	if got := sc.finals(world); r.Code == 0 && !sameMap(got, ex.finals) {
		t.Errorf("%s: [I16] exit 0 but the outputs are not complete: %s", at, diffMap(got, ex.finals))
	}
}
