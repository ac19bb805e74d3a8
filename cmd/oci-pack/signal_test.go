//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startBlocked starts the binary with stdin from r and sends sig after
// 300 ms; it returns the exit code, stderr and how long the process lived
// after the signal.
func startBlocked(t *testing.T, dir string, stdin *os.File, sig syscall.Signal, args ...string) (int, string, time.Duration) {
	t.Helper()
	cmd := exec.Command(bin(t), args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("oci-pack %s still running a minute after %v", strings.Join(args, " "), sig)
	}
	return cmd.ProcessState.ExitCode(), stderr.String(), time.Since(sent)
}

// noStaging fails if the layout holds a staging directory.
func noStaging(t *testing.T, layoutDir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(layoutDir, ".oci-pack", "tmp"))
	for _, e := range entries {
		t.Errorf("staging %s left behind", e.Name())
	}
}

// A command waiting for a busy layout lock stops on SIGTERM with 143,
// long before --lock-timeout, index.json untouched (I11).
func TestSignalDuringLockWait(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "init", "L")
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	must(t, dir, "pack", "L:v1", "f", "--artifact-type", "application/x.t")
	before, _ := os.ReadFile(filepath.Join(dir, "L", "index.json"))
	lock, err := os.OpenFile(filepath.Join(dir, "L", ".oci-pack", "gc.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	code, stderr, after := startBlocked(t, dir, nil, syscall.SIGTERM, "tag", "L:v1", "v2", "--lock-timeout", "10m")
	if code != 143 {
		t.Errorf("exit %d, want 143; stderr: %s", code, stderr)
	}
	if after > unwindGrace+5*time.Second {
		t.Errorf("exited %s after SIGTERM", after)
	}
	if !strings.Contains(stderr, "SIGTERM") {
		t.Errorf("stderr does not say it was interrupted: %q", stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "L", "index.json")); !bytes.Equal(got, before) {
		t.Errorf("index.json changed")
	}
	noStaging(t, filepath.Join(dir, "L"))
}

// An import reading a stalled pipe (a read that never sees the cancelled
// context) still exits 130 on SIGINT, within the unwind grace, and its
// staging is removed (I5).
func TestSignalDuringBlockedRead(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "init", "L")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // never written: the read blocks
	defer r.Close()
	code, stderr, after := startBlocked(t, dir, r, syscall.SIGINT, "import", "-", "L")
	if code != 130 {
		t.Errorf("exit %d, want 130; stderr: %s", code, stderr)
	}
	if after > unwindGrace+5*time.Second {
		t.Errorf("exited %s after SIGINT", after)
	}
	noStaging(t, filepath.Join(dir, "L"))
}

// SIGHUP (an ssh session or terminal closing) stops a command as SIGINT
// does: exit 129, staging removed (I16). A process started with SIGHUP
// ignored (nohup) keeps ignoring it.
func TestSignalHUP(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "init", "L")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // never written: the read blocks
	defer r.Close()
	code, stderr, _ := startBlocked(t, dir, r, syscall.SIGHUP, "import", "-", "L")
	if code != 129 || !strings.Contains(stderr, "SIGHUP") {
		t.Errorf("exit %d, want 129 naming SIGHUP; stderr: %s", code, stderr)
	}
	noStaging(t, filepath.Join(dir, "L"))

	// Under nohup the signal is ignored: the import goes on reading, and
	// ends when its input does.
	cmd := exec.Command("sh", "-c", `trap "" HUP; exec "$0" "$@"`, bin(t), "import", "-", "L")
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	in.Close()
	cmd.Wait()
	if c := cmd.ProcessState.ExitCode(); c == 129 || strings.Contains(out.String(), "SIGHUP") {
		t.Errorf("under nohup, SIGHUP stopped the import: exit %d: %s", c, out.String())
	}
}

// A read-only command (ls here, serve likewise) stopped by a signal does
// not speak of a commit: it changes nothing, and says it was stopped —
// whether it unwinds (one signal) or a second signal forces the exit.
func TestSignalReadOnlyCommand(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "init", "L")
	lock, err := os.OpenFile(filepath.Join(dir, "L", ".oci-pack", "gc.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	code, stderr, _ := startBlocked(t, dir, nil, syscall.SIGTERM, "ls", "L", "--lock-timeout", "10m")
	if code != 143 || !strings.Contains(stderr, "stopped by SIGTERM") || strings.Contains(stderr, "commit") {
		t.Errorf("ls stopped by SIGTERM: exit %d, want 143 saying 'stopped by SIGTERM' and nothing of a commit; stderr: %s", code, stderr)
	}

	cmd := exec.Command(bin(t), "ls", "L", "--lock-timeout", "10m")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if c := cmd.ProcessState.ExitCode(); (c != 130 && c != 143) || !strings.Contains(out.String(), "stopped") || strings.Contains(out.String(), "commit") {
		t.Errorf("ls stopped by SIGINT+SIGTERM: exit %d, want 130 or 143 saying it stopped, nothing of a commit; stderr: %s", c, out.String())
	}
}
