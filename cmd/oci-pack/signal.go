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

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack/extract"
)

// gotSignal records the signal that cancelled the context, for the exit
// code (129 for SIGHUP, 130 for SIGINT, 143 for SIGTERM).
var gotSignal atomic.Int32

// Exit codes of the signals that stop a command (128 + the signal number).
const (
	exitSIGHUP  = 129
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// committed is set at the command's commit point (layout.Commit): from
// then on its change is visible and complete, and a signal no longer
// makes the command a failure (RELIABILITY I16). commitMu is held while a
// change is made visible and committed set, so a forced exit that holds
// it sees one of the two states, never the change without the mark.
var (
	committed atomic.Bool
	commitMu  sync.Mutex
)

// changesNothing is set when the command running is read-only
// (command.readOnly): a forced exit then has no commit to speak of.
var changesNothing atomic.Bool

// commitWait bounds how long a forced exit waits for a commit in
// progress (one rename) to finish before it says it cannot tell.
const commitWait = 2 * time.Second

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

// stopSignals are the signals that stop a command, with their exit
// codes. SIGHUP is an ssh session or terminal closing: like Ctrl-C, it
// must not leave staging or .partial files behind.
var stopSignals = map[os.Signal]int32{syscall.SIGHUP: exitSIGHUP, os.Interrupt: exitSIGINT, syscall.SIGTERM: exitSIGTERM}

// signalContext is cancelled by SIGINT, SIGTERM or SIGHUP, so commands
// unwind, remove their staging files and release their locks before
// exiting. A signal the process was started with ignored (nohup, a
// background job) stays ignored. If the command has not returned
// unwindGrace later (or a second signal comes), the registered cleanups
// run and the process exits with the signal's code — or, if the command
// had already committed, with 0 and a message saying so. SIGPIPE is
// caught too, so a write to a closed stdout fails with EPIPE (which the
// command reports, exit 1) instead of killing the process mid-work.
// The returned context carries the commit notification (committed).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ctx = layout.WithCommitNotify(ctx, &commitMu, func() { committed.Store(true) })
	stopped := make(chan struct{})
	ch := make(chan os.Signal, 2)
	for s := range stopSignals {
		if !signal.Ignored(s) {
			signal.Notify(ch, s)
		}
	}
	atForcedExit(layout.RemoveStaging)  // the layouts' staging directories
	atForcedExit(fsx.RemovePartials)    // an export's FILE.partial, a receipt's
	atForcedExit(extract.RemoveStaging) // an extraction's staging in its output directory
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	go func() {
		var s os.Signal
		select {
		case s = <-ch:
		case <-stopped:
			return
		}
		code := stopSignals[s]
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
		if !lockWithin(&commitMu, commitWait) { // held until exit: no commit starts now
			fmt.Fprintf(os.Stderr, "oci-pack: interrupted (%s) while the change was being committed; exited without waiting: run 'oci-pack verify' to see what is in place\n", signalName(code))
			os.Exit(int(code))
		}
		if committed.Load() {
			fmt.Fprintf(os.Stderr, "oci-pack: %s after the change was committed: the change is complete; exited before the command finished reporting it\n", signalName(code))
			os.Exit(exitOK)
		}
		if changesNothing.Load() {
			fmt.Fprintf(os.Stderr, "oci-pack: stopped (%s) without waiting for the command to finish unwinding; it changes nothing on disk, so nothing is left half-done\n", signalName(code))
			os.Exit(int(code))
		}
		fmt.Fprintf(os.Stderr, "oci-pack: interrupted (%s) before the command committed; exited without waiting for it to finish unwinding\n", signalName(code))
		os.Exit(int(code))
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			signal.Stop(pipe)
			close(stopped)
			cancel()
		})
	}
}

// lockWithin takes mu if it can within d.
func lockWithin(mu *sync.Mutex, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		if mu.TryLock() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}
