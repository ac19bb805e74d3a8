package rtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binDir  string
	binErr  error
)

// Main runs the tests of a package that uses Bin and removes the binary it
// built, if any: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Bin returns the oci-pack binary under test: $OCI_PACK_BIN if set (make
// sets it to bin/oci-pack), else a build of ./cmd/oci-pack made once per
// test process.
func Bin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("OCI_PACK_BIN"); p != "" {
			binPath, binErr = filepath.Abs(p)
			return
		}
		binDir, binErr = os.MkdirTemp("", "oci-pack-rtest-")
		if binErr != nil {
			return
		}
		os.Chmod(binDir, 0o755) // tests may run it as another user
		binPath = filepath.Join(binDir, "oci-pack")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/oci-pack/oci-pack/cmd/oci-pack")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("oci-pack binary: %v", binErr)
	}
	return binPath
}

// Result is one run of the binary. Code is -1 if it was killed (Timeout).
type Result struct {
	Args           []string
	Code           int
	Stdout, Stderr string
	// PeakRSSKB is the process's peak resident set size in KiB (0 where
	// the OS does not report it).
	PeakRSSKB int64
	// TimedOut is set when the run was stopped at Opts.Timeout (then
	// Stderr ends with its goroutine dump where the OS allows).
	TimedOut bool
}

func (r Result) String() string {
	return fmt.Sprintf("oci-pack %s: exit %d (peak RSS %d KiB)\nstdout: %s\nstderr: %s",
		strings.Join(r.Args, " "), r.Code, r.PeakRSSKB, clip(r.Stdout), clip(r.Stderr))
}

// clip shortens s for a message, keeping its start and end.
func clip(s string) string {
	if len(s) > 8000 {
		return s[:2000] + fmt.Sprintf("\n… (%d bytes) …\n", len(s)-8000) + s[len(s)-6000:]
	}
	return s
}

// Opts are how to run the binary.
type Opts struct {
	Dir    string    // working directory ("" = the test's)
	Env    []string  // added to the environment
	Stdin  io.Reader // nil = /dev/null
	Stdout io.Writer // if set, stdout goes here instead of Result.Stdout
	// Timeout stops the run after this long (default 2 minutes): SIGQUIT
	// (a goroutine dump), then SIGKILL 5 s later.
	Timeout time.Duration
	// SysProcAttr, if set, is the child's (e.g. a Credential to run as an
	// unprivileged user).
	SysProcAttr *syscall.SysProcAttr
	// Bin, if set, is the binary to run instead of Bin(t) (a copy another
	// user can reach).
	Bin string
	// Wrap, if set, is a command line the binary and its arguments are
	// appended to (Tmpfs.Wrap, ulimit through sh, strace…).
	Wrap []string
}

// Run runs the binary with args and returns what it did.
func Run(t testing.TB, args ...string) Result {
	t.Helper()
	return RunWith(t, Opts{}, args...)
}

// RunIn runs the binary in dir.
func RunIn(t testing.TB, dir string, args ...string) Result {
	t.Helper()
	return RunWith(t, Opts{Dir: dir}, args...)
}

// RunWith runs the binary with args under o. SOURCE_DATE_EPOCH is cleared
// (it changes what pack writes); stderr is not a terminal, so no progress
// bars are drawn.
func RunWith(t testing.TB, o Opts, args ...string) Result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	bin := o.Bin
	if bin == "" {
		bin = Bin(t)
	}
	argv := append(append(append([]string(nil), o.Wrap...), bin), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = o.SysProcAttr
	cmd.Dir = o.Dir
	cmd.Env = append(append(os.Environ(), "SOURCE_DATE_EPOCH="), o.Env...)
	cmd.Stdin = o.Stdin
	cmd.Cancel = func() error { return cmd.Process.Signal(timeoutSignal) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if o.Stdout != nil {
		cmd.Stdout = o.Stdout
	}
	err := cmd.Run()
	timedOut := ctx.Err() != nil
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !timedOut && !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("run oci-pack %s: %v", strings.Join(args, " "), err)
	}
	if cmd.ProcessState == nil {
		t.Fatalf("run oci-pack %s: %v (no exit status)", strings.Join(args, " "), err)
	}
	code := cmd.ProcessState.ExitCode()
	if timedOut {
		code = -1
	}
	return Result{Args: args, Code: code, Stdout: stdout.String(), Stderr: stderr.String(),
		PeakRSSKB: peakRSSKB(cmd.ProcessState), TimedOut: timedOut}
}

// Must runs the binary and fails the test unless it exits 0.
func Must(t testing.TB, args ...string) Result {
	t.Helper()
	r := Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("want exit 0: %v", r)
	}
	return r
}
