package rtest

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Tmpfs is a small tmpfs mounted over a directory in a private mount
// namespace (unshare -rm: no root needed where user namespaces are
// allowed), held open by a sleeping process: a real full disk for ENOSPC
// cases (RELIABILITY D-39, F-52). Commands run inside with Opts.Wrap =
// f.Wrap; the test reads what they wrote through f.View.
type Tmpfs struct {
	Dir  string   // the mount point, as commands inside see it
	Wrap []string // runs a command inside the namespace (nsenter)
	pid  int
}

// NewTmpfs mounts a tmpfs of size (mount's size=, e.g. "32m") over dir,
// which must exist. It fails with the reason when user namespaces or
// mounting are not allowed; the namespace ends at the test's cleanup.
func NewTmpfs(t testing.TB, dir, size string) (*Tmpfs, error) {
	t.Helper()
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	holder := exec.Command("unshare", "-rm", "sh", "-c", `mount -t tmpfs -o size="$1" none "$2" && echo ready && exec sleep 100000`, "sh", size, dir)
	out, err := holder.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	holder.Stderr = &stderr
	if err := holder.Start(); err != nil {
		return nil, fmt.Errorf("unshare -rm: %w", err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		holder.Wait()
		return nil, fmt.Errorf("unshare -rm + mount -t tmpfs: %s", strings.TrimSpace(stderr.String()))
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	pid := holder.Process.Pid
	return &Tmpfs{Dir: dir, pid: pid, Wrap: []string{"nsenter", "-t", strconv.Itoa(pid), "-U", "-m", "--"}}, nil
}

// View is the path through which the test (outside the namespace) sees p,
// a path inside it.
func (f *Tmpfs) View(p string) string {
	abs, _ := filepath.Abs(p)
	return filepath.Join("/proc", strconv.Itoa(f.pid), "root", abs)
}

// Exec runs a command (not oci-pack) inside the namespace and fails t if
// it fails.
func (f *Tmpfs) Exec(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(f.Wrap[0], append(f.Wrap[1:], args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s in the tmpfs namespace: %v\n%s", strings.Join(args, " "), err, out)
	}
}
