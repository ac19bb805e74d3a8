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

// envFault is an environment failure to inject: errno on calls of a class.
type envFault struct {
	name    string
	calls   []uintptr
	errno   syscall.Errno
	says    string // strerror, which the error line must give
	onFiles bool   // count only calls on files in the world
	stride  int    // check every stride-th call (and the last) unless CRASH_SWEEP=full
}

func envFaults() []envFault {
	return []envFault{
		{name: "open-EACCES", calls: sysOpen, errno: syscall.EACCES, says: "permission denied"},
		{name: "open-EMFILE", calls: sysOpen, errno: syscall.EMFILE, says: "too many open files", stride: 2},
		{name: "open-EIO", calls: sysOpen, errno: syscall.EIO, says: "input/output error", stride: 3},
		{name: "read-EIO", calls: sysRead, errno: syscall.EIO, says: "input/output error", onFiles: true, stride: 2},
	}
}

// envCommands are the commands that read index.json, documents and blobs
// (and some that then write), each run on a copy of L0 with out/.
func envCommands(tp *template) map[string][]string {
	return map[string][]string{
		"ls":      {"ls", "-q", "L"},
		"inspect": {"inspect", "-q", "L:v1"},
		"verify":  {"verify", "-q", "L"},
		"receipt": {"receipt", "-q", "L"},
		"tag":     {"tag", "-q", "L:v1", "t1"},
		"export":  {"export", "-q", "L:v1", "-o", "out/x.tar"},
		"extract": {"extract", "-q", "L:v1", "-o", "out/x"},
		"import":  {"import", "-q", tp.GoodTar, "L"},
	}
}

// TestEnvironmentExitClass is I16's first clause as a sweep: for each
// command of envCommands and each fault of envFaults, the Nth call of the
// fault's class fails with its errno, for every N. Permission denied, too
// many open files and I/O errors — on index.json, oci-layout, a document,
// a blob, a lock file, anything — are failures of the environment: the
// command exits 1 (or 0, where the open was optional) with one error line
// giving the system's reason, never "corrupt" and never exit 3; and
// index.json is unchanged unless the command succeeded.
func TestEnvironmentExitClass(t *testing.T) {
	tp := newTemplate(t)
	var mu sync.Mutex
	var summary []string
	t.Cleanup(func() { t.Logf("environment faults injected (every N):\n  %s", strings.Join(summary, "\n  ")) })
	for name, args := range envCommands(tp) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := scratchDir(t)
			before := filepath.Join(dir, "before")
			copyTree(t, tp.L0, filepath.Join(before, "L"))
			os.MkdirAll(filepath.Join(before, "out"), 0o755)
			oldIdx := readFile(filepath.Join(before, "L", "index.json"))
			for _, ef := range envFaults() {
				t.Run(ef.name, func(t *testing.T) {
					n := envSweep(t, args, ef, before, filepath.Join(dir, "w"), oldIdx)
					mu.Lock()
					summary = append(summary, fmt.Sprintf("%-8s %-12s %3d", name, ef.name, n))
					mu.Unlock()
				})
			}
		})
	}
}

// envSweep injects ef at every call of its class in turn and returns how
// many it checked.
func envSweep(t *testing.T, args []string, ef envFault, before, work string, oldIdx []byte) int {
	f := fault{calls: ef.calls, errno: ef.errno}
	if ef.onFiles {
		os.MkdirAll(work, 0o755)
		real, _ := filepath.EvalSymlinks(work)
		f.match = onFilesUnder(real)
	}
	checked := 0
	for n := 1; n <= maxPoints; n++ {
		if ef.stride > 1 && !full() && n%ef.stride != 1 {
			continue
		}
		os.RemoveAll(work)
		copyTree(t, before, work)
		f.n = n
		r := runTraced(t, work, f, args...)
		if !r.Fired {
			if r.Code != 0 {
				t.Fatalf("%s: the run past the last %s call failed: %v", args[0], ef.name, r)
			}
			return checked
		}
		checked++
		at := fmt.Sprintf("%s with %s call #%d failing", args[0], ef.name, n)
		if r.Code == 0 {
			continue // an optional open (the stat cache, /proc/locks for a message)
		}
		if r.Killed || r.Code != rtest.ExitFailure {
			t.Errorf("%s: [I16] want exit 1 (an environment failure): %v", at, r)
			continue
		}
		stderr := r.Stderr
		if args[0] == "verify" {
			// verify lists each problem on a line of its own before its
			// error line: an unreadable blob is "unreadable", not "corrupt".
			stderr = verifyErrorLine(stderr)
		}
		line, err := oneErrorLine(stderr)
		switch {
		case err != nil:
			t.Errorf("%s: [E] %v", at, err)
		case strings.Contains(r.Stderr, "corrupt"):
			t.Errorf("%s: [I16] an environment failure reported as corruption: %s", at, r.Stderr)
		case !strings.Contains(r.Stderr, ef.says):
			t.Errorf("%s: [E] stderr does not give the reason %q: %s", at, ef.says, line)
		}
		// A failure after the rename (the directory fsync) is reported,
		// but index.json is then the new version.
		if idx := readFile(filepath.Join(work, "L", "index.json")); !bytes.Equal(idx, oldIdx) && !strings.Contains(line, "after replacing index.json") {
			t.Errorf("%s: [U] index.json changed by a failed run: %s", at, line)
		}
	}
	t.Fatalf("%s: more than %d %s calls", args[0], maxPoints, ef.name)
	return 0
}

// verifyErrorLine drops verify's problem lines ("unreadable blob …",
// "missing blob …") from stderr, leaving its error line.
func verifyErrorLine(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "unreadable") || strings.HasPrefix(l, "missing") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
