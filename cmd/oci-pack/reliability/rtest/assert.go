package rtest

import (
	"strings"
	"testing"
)

// Exit classes (RELIABILITY I11).
const (
	ExitOK        = 0
	ExitFailure   = 1 // environment, I/O: ENOSPC, EIO, EACCES
	ExitUsage     = 2
	ExitIntegrity = 3 // corrupt, truncated, hostile input
	ExitConflict  = 4 // tag exists, lock busy
)

// MaxRSSKB is [M]'s bound: 256 MiB.
const MaxRSSKB = 256 * 1024

// AssertCode checks r's exit class.
func AssertCode(t testing.TB, r Result, want int) {
	t.Helper()
	if r.TimedOut {
		t.Errorf("[E] killed after a timeout (hang?), want exit %d: %v", want, r)
		return
	}
	if r.Code != want {
		t.Errorf("[E] want exit %d: %v", want, r)
	}
}

// AssertFail checks [E]: exit class want and one error line holding every
// one of must (the object named, expected vs actual).
func AssertFail(t testing.TB, r Result, want int, must ...string) {
	t.Helper()
	AssertCode(t, r, want)
	AssertOneErrorLine(t, r.Stderr, must...)
}

// AssertOneErrorLine checks [E]'s "one clear error line": apart from lines
// starting "warning:", stderr is exactly one line, of the form
// "oci-pack CMD: …", with no panic or stack trace, containing every string
// in must. Run the binary with -q so informational lines are off.
func AssertOneErrorLine(t testing.TB, stderr string, must ...string) {
	t.Helper()
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("[E] stderr holds a panic:\n%s", clip(stderr))
		return
	}
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "warning:") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != 1 {
		t.Errorf("[E] want one error line on stderr, got %d:\n%s", len(lines), clip(stderr))
		if len(lines) == 0 {
			return
		}
	}
	line := lines[0]
	if !strings.HasPrefix(line, "oci-pack ") {
		t.Errorf("[E] error line %q does not start with \"oci-pack CMD:\"", line)
	}
	for _, m := range must {
		if !strings.Contains(line, m) {
			t.Errorf("[E] error line %q does not mention %q", line, m)
		}
	}
}

// AssertRSS checks [M]: peak RSS at most 256 MiB.
func AssertRSS(t testing.TB, r Result) {
	t.Helper()
	if r.PeakRSSKB > MaxRSSKB {
		t.Errorf("[M] peak RSS %d KiB > %d KiB: %v", r.PeakRSSKB, MaxRSSKB, r)
	}
}
