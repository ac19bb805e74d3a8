//go:build linux

package crash

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestChaos is section 5.1's random chaos loop: a command of
// scenarios(), picked at random, is killed with SIGKILL after a random
// delay (`timeout -s KILL`), 100 times (1,000 with CRASH_SWEEP=full),
// and every time the D-41 invariants of checkCrash hold. Unlike the
// sweep, a kill can land anywhere — between syscalls, in the Go
// runtime, while another thread is mid-call. The seed is logged;
// CRASH_SEED=N repeats a sequence (timing aside).
func TestChaos(t *testing.T) {
	iterations := 100
	if full() {
		iterations = 1000
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("CRASH_SEED=%d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	tp := newTemplate(t)
	dir := scratchDir(t)
	scs := scenarios()
	exs := make([]*expected, len(scs))
	took := make([]time.Duration, len(scs))
	for i, sc := range scs {
		exs[i] = expect(t, tp, sc, filepath.Join(dir, sc.name))
		// How long an uninterrupted run takes here, to aim the kills.
		w := filepath.Join(dir, "w")
		resetWorld(t, exs[i], w)
		start := time.Now()
		killAfter(t, w, time.Hour, exs[i].args)
		took[i] = time.Since(start)
		os.RemoveAll(w)
	}
	// Two loops at once (the machine has two cores), each in its own
	// world, drawing their cases from one sequence.
	var mu sync.Mutex
	next, killed, failed := 0, 0, false
	draw := func() (n, i int, delay time.Duration, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		if next == iterations || failed {
			return 0, 0, 0, false
		}
		n, i = next, rnd.IntN(len(scs))
		next++
		return n, i, time.Duration(rnd.Int64N(int64(took[i]) * 5 / 4)), true
	}
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Go(func() {
			w := filepath.Join(dir, fmt.Sprintf("w%d", k))
			for {
				n, i, delay, ok := draw()
				if !ok {
					return
				}
				resetWorld(t, exs[i], w)
				k := killAfter(t, w, delay, exs[i].args)
				good := checkCrash(t, scs[i], exs[i], w, fmt.Sprintf("chaos #%d: %s killed after %v", n, scs[i].name, delay))
				mu.Lock()
				if k {
					killed++
				}
				failed = failed || !good
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d runs, %d killed before they finished", next, killed)
}

// killAfter runs the binary with args in dir and kills it with SIGKILL
// after delay unless it ended first; it reports whether it was killed.
func killAfter(t testing.TB, dir string, delay time.Duration, args []string) bool {
	t.Helper()
	cmd := exec.Command(rtest.Bin(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
	cmd.Wait()
	timer.Stop()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
