//go:build linux

package crash

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// injected is one error to inject: errno on calls of a class.
type injected struct {
	name  string
	calls []uintptr
	errno syscall.Errno
	// says is what the error line must contain (strerror).
	says string
	// onFiles limits the calls counted to those on files in the world
	// (not stdout, stderr or the Go runtime's pipes).
	onFiles bool
	// afterPublish: the error can come after the new state was
	// published (a directory fsync after the rename), so index.json may
	// be the new version.
	afterPublish bool
	// stride > 1 checks only every stride-th call (and the last) unless
	// CRASH_SWEEP=full: the same code paths as another errno.
	stride int
}

func injections() []injected {
	return []injected{
		{name: "write-ENOSPC", calls: sysWrite, errno: syscall.ENOSPC, says: "no space left on device", onFiles: true},
		{name: "write-EIO", calls: sysWrite, errno: syscall.EIO, says: "input/output error", onFiles: true, stride: 3},
		{name: "write-EDQUOT", calls: sysWrite, errno: syscall.EDQUOT, says: "disk quota exceeded", onFiles: true, stride: 5},
		{name: "fsync-EIO", calls: sysFsync, errno: syscall.EIO, says: "input/output error", onFiles: true, afterPublish: true},
		{name: "rename-EXDEV", calls: sysRename, errno: syscall.EXDEV, says: "invalid cross-device link"},
	}
}

// TestFaultInjection is D-39 and section 5.3 with injected errors: for
// pack, import, export and extract, and each error of injections(), the
// Nth call of its class fails with it, for every N (EIO and EDQUOT on
// writes: every 3rd and 5th, and the last, unless CRASH_SWEEP=full).
// Each time: exit 1 (I11: I/O errors are failures, not integrity) with
// one error line that gives the system's reason and names the file; index.json unchanged (or, for an fsync
// failing after the rename, the new version); every blob complete; no
// staging, no .partial and no final output name holding anything but
// its complete content; verify passes; the re-run without the fault
// gives the uninterrupted outcome.
func TestFaultInjection(t *testing.T) {
	tp := newTemplate(t)
	var mu sync.Mutex
	var summary []string
	t.Cleanup(func() { t.Logf("faults injected (every N):\n  %s", strings.Join(summary, "\n  ")) })
	for _, sc := range scenarios() {
		switch sc.name {
		case "pack", "import", "import-repair", "export", "extract":
		default:
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dir := scratchDir(t)
			ex := expect(t, tp, sc, dir)
			for _, inj := range injections() {
				t.Run(inj.name, func(t *testing.T) {
					n := faultSweep(t, sc, ex, inj, filepath.Join(dir, "w"))
					mu.Lock()
					summary = append(summary, fmt.Sprintf("%-8s %-13s %3d", sc.name, inj.name, n))
					mu.Unlock()
				})
			}
		})
	}
}

// faultSweep injects inj at every call of its class in turn (or every
// stride-th) and returns how many it checked, stopping at the first
// that breaks the contract.
func faultSweep(t *testing.T, sc scenario, ex *expected, inj injected, work string) int {
	f := fault{calls: inj.calls, errno: inj.errno}
	if inj.onFiles {
		os.MkdirAll(work, 0o755)
		real, _ := filepath.EvalSymlinks(work)
		f.match = onFilesUnder(real)
	}
	checked := 0
	try := func(n int) (traced, bool) {
		resetWorld(t, ex, work)
		f.n = n
		r := runTraced(t, work, f, ex.args...)
		if !r.Fired {
			return r, true
		}
		checked++
		return r, checkFault(t, sc, ex, inj, work, r, fmt.Sprintf("%s with %s call #%d failing", sc.name, inj.name, n))
	}
	for n := 1; n <= maxPoints; n++ {
		if inj.stride > 1 && !full() && n%inj.stride != 1 {
			continue
		}
		r, ok := try(n)
		if !ok {
			return checked
		}
		if r.Fired {
			continue
		}
		if r.Code != 0 {
			t.Fatalf("%s: the run past the last %s call failed: %v", sc.name, inj.name, r)
		}
		// The last call, if the stride skipped it.
		if last := r.Count; inj.stride > 1 && last > 0 && last < n && last%inj.stride != 1 {
			try(last)
		}
		return checked
	}
	t.Fatalf("%s: more than %d %s calls", sc.name, maxPoints, inj.name)
	return 0
}

// checkFault checks one run that met an injected error.
func checkFault(t *testing.T, sc scenario, ex *expected, inj injected, world string, r traced, at string) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format, append([]any{at}, args...)...)
		ok = false
	}
	l := filepath.Join(world, "L")
	if r.Code == 0 && onlyStatCacheWarnings(r.Stderr) {
		// The fault hit the pack's stat cache, an optimisation whose
		// loss is only warned about: the pack itself must be whole.
		if got := readFile(filepath.Join(l, "index.json")); !bytes.Equal(got, ex.newIdx) {
			fail("a pack that only lost its stat cache did not give the uninterrupted outcome:\n%s", got)
		}
		if st := stagingLeft(l); len(st) > 0 {
			fail("[U] staging left: %v", st)
		}
		if v := rtest.RunIn(t, world, "verify", "-q", "L"); v.Code != 0 {
			fail("[V] verify: %v", v)
		}
		return ok
	}
	if r.Killed || r.Code != rtest.ExitFailure {
		fail("[E] want exit 1 (I/O failure): %v", r)
	}
	if line, err := oneErrorLine(r.Stderr); err != nil {
		fail("[E] %v", err)
	} else if !strings.Contains(line, inj.says) {
		fail("[E] the error line does not give the reason %q: %s", inj.says, line)
	} else if !namesObject(line, sc) {
		fail("[E] the error line names no file, blob or document: %s", line)
	} else {
		t.Logf("%s: %s", at, line)
	}
	idx := readFile(filepath.Join(l, "index.json"))
	if !bytes.Equal(idx, ex.oldIdx) && !(inj.afterPublish && bytes.Equal(idx, ex.newIdx)) {
		fail("[U] index.json changed:\n%s\nwas %s", idx, ex.oldIdx)
	}
	checkBlobs(t, ex, world, false, fail)
	if st := stagingLeft(l); len(st) > 0 {
		fail("[U] staging left after the failed run: %v", st)
	}
	if sc.out != "" {
		for rel, sum := range files(filepath.Join(world, sc.out), nil) {
			switch {
			case strings.HasSuffix(rel, ".partial"), isExtractStaging(rel):
				fail("[N] %s/%s left after the failed run", sc.out, rel)
			case ex.finals[rel] != sum:
				fail("[N] %s/%s is under a final name but is not the complete output", sc.out, rel)
			}
		}
	}
	checkBlobs(t, ex, world, true, fail)
	// A failed commit took back what it had moved (no --overwrite needed).
	if r := rtest.RunIn(t, world, ex.args...); r.Code != 0 {
		fail("[V] the re-run without the fault failed: %v", r)
		return false
	}
	if got := readFile(filepath.Join(l, "index.json")); !bytes.Equal(got, ex.newIdx) {
		fail("after the re-run index.json is not the uninterrupted outcome:\n%s", got)
	}
	if got := sc.finals(world); !sameMap(got, ex.finals) {
		fail("after the re-run the outputs differ from the uninterrupted run's: %s", diffMap(got, ex.finals))
	}
	return ok
}

// oneErrorLine returns the one line on stderr (warnings aside), of the
// form "oci-pack CMD: …", or says what is wrong with stderr.
func oneErrorLine(stderr string) (string, error) {
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		return "", fmt.Errorf("stderr holds a panic:\n%s", stderr)
	}
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "warning:") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "oci-pack ") {
		return "", fmt.Errorf("want one error line \"oci-pack CMD: …\" on stderr, got:\n%s", stderr)
	}
	return lines[0], nil
}

// namesObject says whether an error line names what failed: a file of
// the layout or output, a blob digest or index.json.
func namesObject(line string, sc scenario) bool {
	for _, s := range []string{"L/", "sha256:", "index.json"} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return sc.out != "" && strings.Contains(line, sc.out+"/")
}

// onlyStatCacheWarnings says whether stderr holds warnings about pack's
// stat cache (.oci-pack/statcache.json) and nothing else.
func onlyStatCacheWarnings(stderr string) bool {
	seen := false
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.TrimSpace(l) == "":
		case strings.HasPrefix(l, "warning:") && (strings.Contains(l, "stat cache") || strings.Contains(l, "statcache")):
			seen = true
		default:
			return false
		}
	}
	return seen
}

// resetWorld makes work a fresh copy of the starting state.
func resetWorld(t testing.TB, ex *expected, work string) {
	t.Helper()
	os.RemoveAll(work)
	copyTree(t, ex.before, work)
}
