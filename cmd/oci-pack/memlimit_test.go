package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// The soft memory limit is in force by default and yields to GOMEMLIMIT.
func TestApplyMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)

	t.Setenv("GOMEMLIMIT", "1GiB") // restored after the test
	debug.SetMemoryLimit(1 << 30)  // what the runtime read from it at start
	if got := applyMemoryLimit(); got != 1<<30 || debug.SetMemoryLimit(-1) != 1<<30 {
		t.Errorf("GOMEMLIMIT=1GiB: limit %d, runtime %d; want the user's 1 GiB kept", got, debug.SetMemoryLimit(-1))
	}

	os.Unsetenv("GOMEMLIMIT")
	if got := applyMemoryLimit(); got != defaultMemoryLimit || debug.SetMemoryLimit(-1) != defaultMemoryLimit {
		t.Errorf("no GOMEMLIMIT: limit %d, runtime %d; want %d", got, debug.SetMemoryLimit(-1), defaultMemoryLimit)
	}
}
