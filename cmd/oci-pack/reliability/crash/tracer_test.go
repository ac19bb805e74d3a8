//go:build linux

package crash

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// fault says where a traced run is interrupted: at the n-th call (1-based,
// counted over all threads) whose number is in calls and that match
// accepts. errno 0 kills the process with SIGKILL before that call runs
// (or sends it signals, and the call runs); otherwise the call is skipped
// and fails with errno. n 0 only counts.
type fault struct {
	calls []uintptr
	n     int
	errno syscall.Errno
	match func(tid int, nr uint64, args [6]uint64) bool
	// signals, if set (with errno 0), are sent to the process at the n-th
	// call instead of SIGKILL, and the call then runs: a Ctrl-C (or
	// two) landing at that moment.
	signals []syscall.Signal
}

// traced is one traced run of the binary.
type traced struct {
	Code     int  // exit status; -1 if killed by a signal
	Killed   bool // by SIGKILL (the fault, or the watchdog)
	Fired    bool // the n-th call was reached
	TimedOut bool
	Count    int // counted calls seen
	Stdout   string
	Stderr   string
}

func (r traced) String() string {
	return fmt.Sprintf("exit %d killed=%v fired=%v (%d calls counted)\nstdout: %s\nstderr: %s",
		r.Code, r.Killed, r.Fired, r.Count, r.Stdout, r.Stderr)
}

// runTraced runs the binary with args in dir under f (see trace).
func runTraced(t testing.TB, dir string, f fault, args ...string) traced {
	t.Helper()
	if !tracerSupported {
		t.Skipf("the ptrace tracer reads amd64 registers; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	bin := rtest.Bin(t)
	env := append(os.Environ(), "SOURCE_DATE_EPOCH=")
	type out struct {
		r   traced
		err error
	}
	ch := make(chan out, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		r, err := trace(bin, dir, env, f, args)
		ch <- out{r, err}
	}()
	o := <-ch
	if o.err != nil {
		t.Fatalf("trace oci-pack %s: %v", strings.Join(args, " "), o.err)
	}
	if o.r.TimedOut {
		t.Fatalf("oci-pack %s hung (killed by the watchdog): %v", strings.Join(args, " "), o.r)
	}
	return o.r
}

// onFilesUnder accepts calls whose first argument is a file descriptor
// open on a path under root: writes and fsyncs of the command's files,
// not of stdout, stderr or the Go runtime's own pipes. For
// copy_file_range the file written is the third argument.
func onFilesUnder(root string) func(int, uint64, [6]uint64) bool {
	return func(tid int, sysno uint64, args [6]uint64) bool {
		fd := args[0]
		if sysno == sysCopyFileRange {
			fd = args[2]
		}
		p, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", tid, int32(fd)))
		return err == nil && strings.HasPrefix(p, root+"/")
	}
}

func readAll(f *os.File) string {
	b, _ := os.ReadFile(f.Name())
	return string(b)
}
