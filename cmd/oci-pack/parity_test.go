//go:build unix

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout/layouttest"
)

// randomFile writes n pseudo-random bytes to path.
func randomFile(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	var key [32]byte
	key[0] = byte(seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestParityCLI: export --parity writes parity volumes the sidecar lists
// (sha256sum -c passes) beside plain data volumes (cat | tar reads them);
// import rebuilds two deleted volumes, repair restores them on disk
// byte-identical, and three losses are exit 3 naming all three.
func TestParityCLI(t *testing.T) {
	work := t.TempDir()
	randomFile(t, filepath.Join(work, "src", "w.bin"), 600_000, 1)
	randomFile(t, filepath.Join(work, "src", "x.bin"), 300_000, 2)
	must(t, work, "pack", "L:v1", "src/w.bin", "src/x.bin", "--artifact-type", artifactType)
	expect(t, work, 2, []string{"--parity", "--split-size"}, "export", "L:v1", "-o", "a.tar", "--parity", "2")
	expect(t, work, 2, []string{"--parity"}, "export", "L:v1", "-o", "a.tar", "--split-size", "100KiB", "--parity", "33")
	os.Mkdir(filepath.Join(work, "stick"), 0o755)
	r := must(t, work, "export", "L:v1", "-o", "stick/m.tar", "--split-size", "100KiB", "--parity", "2")
	if !strings.Contains(r.stderr, "2 parity volumes stick/m.tar.par0 … stick/m.tar.par1: any 2 volumes may be lost") {
		t.Errorf("export stderr: %s", r.stderr)
	}
	vols, _ := filepath.Glob(filepath.Join(work, "stick", "m.tar.0*"))
	if len(vols) < 9 {
		t.Fatalf("%d data volumes", len(vols))
	}
	orig := map[string][]byte{}
	for _, v := range vols {
		orig[v], _ = os.ReadFile(v)
	}
	side, _ := os.ReadFile(filepath.Join(work, "stick", "m.tar.sha256"))
	if strings.Count(string(side), ".par") != 2 || strings.Count(string(side), "\n") != len(vols)+2 {
		t.Errorf("sidecar:\n%s", side)
	}
	tool(t, filepath.Join(work, "stick"), "sha256sum", "--strict", "-c", "m.tar.sha256")
	tool(t, work, "sh", "-c", "mkdir x && cat stick/m.tar.0* | tar -x -C x")
	must(t, work, "verify", "x")

	os.Remove(vols[0])
	os.Remove(vols[4])
	r = must(t, work, "import", "stick/m.tar.000", "S")
	if !strings.Contains(r.stderr, "rebuilt from parity for this import: m.tar.000 (missing), m.tar.004 (missing)") {
		t.Errorf("import stderr: %s", r.stderr)
	}
	must(t, work, "verify", "S")
	layouttest.Check(t, filepath.Join(work, "S"))

	r = must(t, work, "repair", "stick/m.tar.par1")
	if r.stdout != "rebuilt m.tar.000 (missing)\nrebuilt m.tar.004 (missing)\n" {
		t.Errorf("repair stdout %q", r.stdout)
	}
	for v, b := range orig {
		if got, _ := os.ReadFile(v); string(got) != string(b) {
			t.Errorf("%s differs after repair", v)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(work, "stick", "*.partial")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}

	os.Remove(vols[1])
	os.Remove(vols[2])
	os.Truncate(vols[3], 5)
	expect(t, work, 3, []string{"3 volumes lost or damaged", "m.tar.001 (missing)", "m.tar.002 (missing)", "m.tar.003 (5 bytes"}, "import", "stick/m.tar.000", "T")
	expect(t, work, 3, []string{"m.tar.003 (5 bytes"}, "repair", "stick/m.tar.000")
	expect(t, work, 2, []string{"not a volume"}, "repair", "stick/m.tar")
	expect(t, work, 2, []string{"no parity volumes"}, "repair", "x/oci-layout.000")
}

// tool runs an external tool in dir, skipping the test when it is absent
// (unless CI=true).
func tool(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
}

var resumingAt = regexp.MustCompile(`resuming at (\d+) of (\d+) bytes`)

// TestResumeAfterKill9 kills an import with SIGKILL once it has read 90%
// of the archive (by /proc/PID/io), and runs it again: the re-run says
// where it resumes, no further back than one checkpoint interval, and the
// layout verifies.
func TestResumeAfterKill9(t *testing.T) {
	work := t.TempDir()
	for i := range 4 {
		randomFile(t, filepath.Join(work, "src", fmt.Sprintf("w%d.bin", i)), 24<<20, uint64(i))
	}
	must(t, work, "pack", "L:v1", "src/w0.bin", "src/w1.bin", "src/w2.bin", "src/w3.bin", "--artifact-type", artifactType)
	must(t, work, "export", "L:v1", "-o", "m.tar", "--split-size", "10MiB")
	var size int64
	vols, _ := filepath.Glob(filepath.Join(work, "m.tar.0*"))
	for _, v := range vols {
		fi, _ := os.Stat(v)
		size += fi.Size()
	}
	cmd := exec.Command(bin(t), "import", "m.tar.000", "S")
	cmd.Dir = work
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io := fmt.Sprintf("/proc/%d/io", cmd.Process.Pid)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(io)
		if err != nil || exited(cmd.Process.Pid) || time.Now().After(deadline) {
			cmd.Wait()
			t.Skip("the import finished before 90% could be observed")
		}
		if m := regexp.MustCompile(`rchar: (\d+)`).FindSubmatch(b); m != nil {
			if n, _ := strconv.ParseInt(string(m[1]), 10, 64); n >= size*9/10 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Wait()
	r := must(t, work, "import", "m.tar.000", "S")
	m := resumingAt.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("the re-run did not resume: %s", r.stderr)
	}
	at, _ := strconv.ParseInt(m[1], 10, 64)
	total, _ := strconv.ParseInt(m[2], 10, 64)
	t.Logf("killed at ≥90%% read; resumed at %d of %d bytes: %.1f%% left to read", at, total, 100*float64(total-at)/float64(total))
	// At most the 10% not read, one checkpoint interval (1/40 of the
	// archive, at least 16 MiB) and the 1 MiB read ahead: on archives of
	// 400 MiB and more, at most 15%.
	if bound := size/10 + max(size/40, 16<<20) + 1<<20; total != size || total-at > bound {
		t.Errorf("resumed at %d of %d (archive %d bytes): more than %d bytes to read again", at, total, size, bound)
	}
	must(t, work, "verify", "S")
	must(t, work, "gc", "S") // the killed process's staging, as after any kill
	layouttest.Check(t, filepath.Join(work, "S"))
	if st, _ := filepath.Glob(filepath.Join(work, "S", ".oci-pack", "resume", "*")); len(st) > 0 {
		t.Errorf("resume state left after success: %v", st)
	}
}

// TestExportResumeSIGINT interrupts an export to volumes with SIGINT once
// a few volumes are finished: it exits 130 keeping them (as .partial, no
// final names), and the same export run again keeps them, says so, and
// ends with a set sha256sum -c accepts and that imports.
func TestExportResumeSIGINT(t *testing.T) {
	work := t.TempDir()
	for i := range 3 {
		randomFile(t, filepath.Join(work, "src", fmt.Sprintf("w%d.bin", i)), 24<<20, uint64(10+i))
	}
	must(t, work, "pack", "L:v1", "src/w0.bin", "src/w1.bin", "src/w2.bin", "--artifact-type", artifactType)
	cmd := exec.Command(bin(t), "export", "L:v1", "-o", "m.tar", "--split-size", "4MiB", "--parity", "1")
	cmd.Dir = work
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		parts, _ := filepath.Glob(filepath.Join(work, "m.tar.0*.partial"))
		if len(parts) >= 6 {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
		if exited(cmd.Process.Pid) || time.Now().After(deadline) {
			cmd.Wait()
			t.Skip("the export finished before it could be interrupted")
		}
		time.Sleep(time.Millisecond)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted export: %v", err)
	}
	if final, _ := filepath.Glob(filepath.Join(work, "m.tar.0??")); len(final) > 0 {
		t.Fatalf("final names after an interrupted export: %v", final)
	}
	kept, _ := filepath.Glob(filepath.Join(work, "m.tar.0*.partial"))
	r := must(t, work, "export", "L:v1", "-o", "m.tar", "--split-size", "4MiB", "--parity", "1")
	if !strings.Contains(r.stderr, "resuming an interrupted export: kept ") {
		t.Errorf("re-run stderr (%d partial volumes were left): %s", len(kept), r.stderr)
	}
	tool(t, work, "sha256sum", "--strict", "-c", "m.tar.sha256")
	must(t, work, "import", "m.tar.000", "S")
	must(t, work, "verify", "S")
}
