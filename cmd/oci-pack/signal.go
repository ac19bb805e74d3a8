package main

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// gotSignal records the signal that cancelled the context, for the exit
// code (130 for SIGINT, 143 for SIGTERM).
var gotSignal atomic.Int32

// signalContext is cancelled by SIGINT or SIGTERM, so commands unwind,
// remove their staging files and release their locks before exiting.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			if s == os.Interrupt {
				gotSignal.Store(130)
			} else {
				gotSignal.Store(143)
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}
