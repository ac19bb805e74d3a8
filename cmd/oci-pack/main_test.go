package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testBinary is the oci-pack binary built once by TestMain for the
// end-to-end tests.
var testBinary string

// TestMain builds ./cmd/oci-pack into a temporary directory before the
// tests run, and removes it after. If OCI_PACK_BIN is unset it is pointed
// at the build, so other test files that honour it reuse it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oci-pack-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // tests may run the binary as another user
	testBinary = filepath.Join(dir, "oci-pack")
	build := exec.Command("go", "build", "-o", testBinary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if os.Getenv("OCI_PACK_BIN") == "" {
		os.Setenv("OCI_PACK_BIN", testBinary)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// ociPack runs the binary in dir with args (and extra environment) and
// returns what it did. Progress bars are off: stderr is not a terminal.
func ociPack(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return ociPackEnv(t, dir, nil, args...)
}

func ociPackEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(testBinary, args...)
	cmd.Dir = dir
	// SOURCE_DATE_EPOCH would change what pack writes: clear it.
	cmd.Env = append(append(os.Environ(), "SOURCE_DATE_EPOCH="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run oci-pack %s: %v", strings.Join(args, " "), err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
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
