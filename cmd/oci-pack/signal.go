package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// gotSignal records the signal that cancelled the context, for the exit
// code (130 for SIGINT, 143 for SIGTERM).
var gotSignal atomic.Int32

// unwindGrace is how long a command may take to unwind after SIGINT or
// SIGTERM before the process exits anyway. Most work sees the cancelled
// context at once; a read blocked on a stalled pipe or the open of a FIFO
// never does. A second signal exits at once.
const unwindGrace = 3 * time.Second

// forcedExitCleanups run, in order, when the process exits without
// unwinding: each removes one piece of this process's staging.
var forcedExitCleanups struct {
	sync.Mutex
	fns []func()
}

// atForcedExit registers fn to run if a signal makes the process exit
// before the command has unwound. fn must be safe to run at any moment
// (e.g. removing a directory by name), since the command is still running.
func atForcedExit(fn func()) {
	forcedExitCleanups.Lock()
	forcedExitCleanups.fns = append(forcedExitCleanups.fns, fn)
	forcedExitCleanups.Unlock()
}

// signalContext is cancelled by SIGINT or SIGTERM, so commands unwind,
// remove their staging files and release their locks before exiting. If
// the command has not returned unwindGrace later (or a second signal
// comes), the registered cleanups run and the process exits with 130 or
// 143; the kernel releases its locks.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		var s os.Signal
		select {
		case s = <-ch:
		case <-stopped:
			return
		}
		code := int32(143)
		if s == os.Interrupt {
			code = 130
		}
		gotSignal.Store(code)
		cancel()
		select {
		case <-ch:
		case <-time.After(unwindGrace):
		case <-stopped:
			return
		}
		forcedExitCleanups.Lock() // held until exit: nothing registers after this
		for _, fn := range forcedExitCleanups.fns {
			fn()
		}
		fmt.Fprintf(os.Stderr, "oci-pack: interrupted (%v); exited without waiting for the command to finish unwinding\n", s)
		os.Exit(int(code))
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(stopped)
			cancel()
		})
	}
}
