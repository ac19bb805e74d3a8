//go:build unix

package rtest

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSSKB is the child's ru_maxrss from wait4, in KiB.
func peakRSSKB(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) / 1024 // bytes there
	}
	return int64(ru.Maxrss)
}

// timeoutSignal is sent to a run that timed out: SIGQUIT makes a Go
// program print every goroutine's stack on stderr before it exits, which
// shows where it hung.
var timeoutSignal os.Signal = syscall.SIGQUIT
