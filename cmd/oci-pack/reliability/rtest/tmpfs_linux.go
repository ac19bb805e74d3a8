package rtest

import (
	"bufio"
	"fmt"
	"os"
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
// which must exist: in a new user and mount namespace (unshare -rm), or,
// where user namespaces are not allowed but the test runs as root, in a
// new mount namespace only (unshare -m). It fails with the reasons when
// neither works; the namespace ends at the test's cleanup.
func NewTmpfs(t testing.TB, dir, size string) (*Tmpfs, error) {
	t.Helper()
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	f, err := newTmpfs(t, dir, size, "-rm")
	if err != nil && os.Geteuid() == 0 {
		var err2 error
		if f, err2 = newTmpfs(t, dir, size, "-m"); err2 != nil {
			return nil, fmt.Errorf("%v; %v", err, err2)
		}
		return f, nil
	}
	return f, err
}

// newTmpfs is NewTmpfs with one way of unsharing (-rm or -m).
func newTmpfs(t testing.TB, dir, size, how string) (*Tmpfs, error) {
	holder := exec.Command("unshare", how, "sh", "-c", `mount -t tmpfs -o size="$1" none "$2" && echo ready && exec sleep 100000`, "sh", size, dir)
	out, err := holder.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	holder.Stderr = &stderr
	if err := holder.Start(); err != nil {
		return nil, fmt.Errorf("unshare %s: %w", how, err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		holder.Wait()
		return nil, fmt.Errorf("unshare %s + mount -t tmpfs: %s", how, strings.TrimSpace(stderr.String()))
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	pid := holder.Process.Pid
	wrap := []string{"nsenter", "-t", strconv.Itoa(pid), "-U", "-m", "--"}
	if how == "-m" {
		wrap = []string{"nsenter", "-t", strconv.Itoa(pid), "-m", "--"}
	}
	return &Tmpfs{Dir: dir, pid: pid, Wrap: wrap}, nil
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
