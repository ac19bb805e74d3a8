package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// The CLI tests drive the built binary through one harness, rtest (shared
// with the reliability suites): rtest.Bin builds ./cmd/oci-pack once per
// test process (or takes $OCI_PACK_BIN, which make sets), rtest.RunWith
// runs it with a working directory, environment, stdin and a timeout. The
// helpers below are this package's short names for it.

func TestMain(m *testing.M) {
	rtest.Main(m)
}

// bin returns the binary under test (also for the tests that need raw
// process control: signals, concurrent processes).
func bin(t testing.TB) string {
	t.Helper()
	return rtest.Bin(t)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// ociPack runs the binary in dir with args and returns what it did.
// Progress bars are off: stderr is not a terminal.
func ociPack(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return ociPackEnv(t, dir, nil, args...)
}

func ociPackEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := rtest.RunWith(t, rtest.Opts{Dir: dir, Env: env, Bin: bin(t)}, args...)
	if r.TimedOut {
		t.Fatalf("oci-pack %s: timed out\n%s", strings.Join(args, " "), r.Stderr)
	}
	return result{code: r.Code, stdout: r.Stdout, stderr: r.Stderr}
}

// must runs the binary and fails the test unless it exits 0.
func must(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := ociPack(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("oci-pack %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// expect runs the binary and checks its exit code and that stderr holds
// every one of msgs.
func expect(t *testing.T, dir string, code int, msgs []string, args ...string) result {
	t.Helper()
	r := ociPack(t, dir, args...)
	if r.code != code {
		t.Fatalf("oci-pack %s: %v\nwant exit %d", strings.Join(args, " "), r, code)
	}
	for _, m := range msgs {
		if !strings.Contains(r.stderr, m) {
			t.Fatalf("oci-pack %s: stderr %q does not mention %q", strings.Join(args, " "), r.stderr, m)
		}
	}
	return r
}
