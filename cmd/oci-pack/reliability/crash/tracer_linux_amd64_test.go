package crash

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// tracerSupported says whether runTraced works here.
const tracerSupported = true

// trace runs bin with args in dir under ptrace, stopping every thread at
// every syscall entry and exit. Calls whose number is in f.calls (and that
// f.match accepts) are counted across all threads, in the order the
// kernel reports them; at the f.n-th one the process is either killed
// with SIGKILL before the call runs, or the call is skipped and fails
// with f.errno. It must run on a goroutine locked to its thread: ptrace
// requests are only accepted from the thread that started the tracee.
func trace(bin, dir string, env []string, f fault, args []string) (traced, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return traced{}, err
	}
	defer devnull.Close()
	stdout, err := os.CreateTemp("", "crash-stdout-")
	if err != nil {
		return traced{}, err
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	stderr, err := os.CreateTemp("", "crash-stderr-")
	if err != nil {
		return traced{}, err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	p, err := os.StartProcess(bin, append([]string{bin}, args...), &os.ProcAttr{
		Dir: dir, Env: env, Files: []*os.File{devnull, stdout, stderr},
		// Its own process group, so wait4(-pid) sees its threads and
		// nothing else this test process started.
		Sys: &syscall.SysProcAttr{Ptrace: true, Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return traced{}, err
	}
	defer p.Release()
	pid := p.Pid
	watchdog := time.AfterFunc(2*time.Minute, func() { syscall.Kill(pid, syscall.SIGKILL) })
	defer watchdog.Stop()

	res, err := traceLoop(pid, f)
	if err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return res, err
	}
	if res.Code == -1 && !res.Fired {
		res.TimedOut = true
	}
	res.Stdout, res.Stderr = readAll(stdout), readAll(stderr)
	return res, nil
}

// traceLoop follows pid from its stop at exec to its end.
func traceLoop(pid int, f fault) (traced, error) {
	var res traced
	var ws syscall.WaitStatus
	if _, err := wait4(pid, &ws); err != nil {
		return res, fmt.Errorf("wait for exec stop: %w", err)
	}
	if !ws.Stopped() || ws.StopSignal() != syscall.SIGTRAP {
		return res, fmt.Errorf("tracee did not stop at exec: status %#x", uint32(ws))
	}
	const opts = syscall.PTRACE_O_TRACESYSGOOD | syscall.PTRACE_O_TRACECLONE | 0x100000 // PTRACE_O_EXITKILL
	if err := syscall.PtraceSetOptions(pid, opts); err != nil {
		return res, fmt.Errorf("PTRACE_SETOPTIONS: %w", err)
	}
	counted := map[uint64]bool{}
	for _, c := range f.calls {
		counted[uint64(c)] = true
	}
	inCall := map[int]bool{}                                         // thread is between entry and exit
	known := map[int]bool{pid: true}                                 // threads seen
	failing := map[int]syscall.Errno{}                               // threads whose current call is skipped
	resume := func(tid, sig int) { syscall.PtraceSyscall(tid, sig) } // ESRCH: died meanwhile
	resume(pid, 0)
	for {
		tid, err := wait4(-pid, &ws)
		if err != nil {
			return res, fmt.Errorf("wait4: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			delete(inCall, tid)
			delete(failing, tid)
			if tid == pid {
				res.Code = ws.ExitStatus()
				res.Killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
				return res, nil
			}
			continue
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		first := !known[tid]
		known[tid] = true
		switch {
		case sig == syscall.SIGTRAP|0x80: // syscall stop
			if inCall[tid] {
				inCall[tid] = false
				if e, ok := failing[tid]; ok {
					delete(failing, tid)
					var r syscall.PtraceRegs
					if syscall.PtraceGetRegs(tid, &r) == nil {
						r.Rax = uint64(-int64(e))
						syscall.PtraceSetRegs(tid, &r)
					}
				}
				resume(tid, 0)
				continue
			}
			inCall[tid] = true
			var r syscall.PtraceRegs
			if err := syscall.PtraceGetRegs(tid, &r); err != nil {
				resume(tid, 0)
				continue
			}
			if counted[r.Orig_rax] && (f.match == nil || f.match(tid, r.Orig_rax, [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9})) {
				res.Count++
				if res.Count == f.n {
					res.Fired = true
					switch {
					case len(f.signals) > 0:
						for _, s := range f.signals {
							syscall.Kill(pid, s)
						}
					case f.errno == 0:
						// The thread is stopped at entry: a fatal signal
						// now means the call never runs.
						syscall.Kill(pid, syscall.SIGKILL)
					default:
						r.Orig_rax = ^uint64(0) // no such syscall: skipped
						syscall.PtraceSetRegs(tid, &r)
						failing[tid] = f.errno
					}
				}
			}
			resume(tid, 0)
		case sig == syscall.SIGTRAP && ws.TrapCause() > 0: // clone event
			resume(tid, 0)
		case first && sig == syscall.SIGSTOP: // a new thread's first stop
			resume(tid, 0)
		default: // a signal for the tracee (SIGURG for preemption, …)
			resume(tid, int(sig))
		}
	}
}

func wait4(pid int, ws *syscall.WaitStatus) (int, error) {
	for {
		tid, err := syscall.Wait4(pid, ws, syscall.WALL, nil)
		if !errors.Is(err, syscall.EINTR) {
			return tid, err
		}
	}
}

// sysCopyFileRange is copy_file_range's number (not in package syscall).
const sysCopyFileRange = 326

// Syscall classes: the crash points of the sweep.
var (
	sysWrite  = []uintptr{syscall.SYS_WRITE, syscall.SYS_PWRITE64, syscall.SYS_WRITEV, syscall.SYS_PWRITEV, sysCopyFileRange, syscall.SYS_SENDFILE}
	sysFsync  = []uintptr{syscall.SYS_FSYNC, syscall.SYS_FDATASYNC}
	sysRename = []uintptr{syscall.SYS_RENAME, syscall.SYS_RENAMEAT, 316 /* renameat2 */, syscall.SYS_LINK, syscall.SYS_LINKAT}
	sysUnlink = []uintptr{syscall.SYS_UNLINK, syscall.SYS_UNLINKAT, syscall.SYS_RMDIR}
	// sysOpen and sysRead are where environment errors (EACCES, EMFILE,
	// EIO) are injected to check their exit class (TestEnvironmentExitClass).
	sysOpen = []uintptr{syscall.SYS_OPENAT, syscall.SYS_OPEN}
	sysRead = []uintptr{syscall.SYS_READ, syscall.SYS_PREAD64, syscall.SYS_READV}
	// sysOtherFile are the other calls that change files or their
	// durability, added to the sweep by CRASH_SWEEP=full.
	sysOtherFile = []uintptr{syscall.SYS_OPENAT, syscall.SYS_OPEN, syscall.SYS_CLOSE, syscall.SYS_MKDIRAT, syscall.SYS_MKDIR,
		syscall.SYS_FCHMOD, syscall.SYS_FCHMODAT, syscall.SYS_FTRUNCATE, syscall.SYS_FLOCK, syscall.SYS_FALLOCATE,
		syscall.SYS_SYNC_FILE_RANGE, syscall.SYS_SYMLINKAT, syscall.SYS_UTIMENSAT, syscall.SYS_FCHOWNAT}
)
