// Package fsxtest mounts throw-away file systems for tests that need a
// particular one (copy-on-write clones on XFS).
package fsxtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// XFS returns the mount point of a fresh, empty XFS file system with
// reflink (512 MiB, a sparse image under t.TempDir() mounted through a
// loop device), unmounted when the test ends. It needs Linux, root, a
// loop device and mkfs.xfs (Debian's xfsprogs). Where one is missing the
// test is skipped saying which — except under CI=true, where the
// zero-copy tests are part of the contract: there a missing mkfs.xfs is
// installed with scripts/tools.sh, and anything still missing fails the
// test.
func XFS(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		unavailable(t, "XFS clones need Linux")
	}
	if os.Geteuid() != 0 {
		unavailable(t, "mounting an XFS image needs root")
	}
	mkfs := findMkfs()
	if mkfs == "" && os.Getenv("CI") == "true" {
		if tools := toolsScript(); tools != "" {
			out, err := exec.Command(tools, "mkfs.xfs").CombinedOutput()
			if err != nil {
				t.Logf("scripts/tools.sh mkfs.xfs: %v\n%s", err, out)
			}
			mkfs = findMkfs()
		}
	}
	if mkfs == "" {
		unavailable(t, "mkfs.xfs is missing (apt-get install xfsprogs, or scripts/tools.sh mkfs.xfs)")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "xfs.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(512 << 20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-m", "reflink=1", img).CombinedOutput(); err != nil {
		unavailable(t, "mkfs.xfs -m reflink=1 failed: "+err.Error()+": "+string(bytes.TrimSpace(out)))
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		unavailable(t, "mount -o loop of an XFS image failed (no loop device or no permission to mount here?): "+err.Error()+": "+string(bytes.TrimSpace(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
			_ = exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("zero-copy test cannot run, and CI=true requires it: %s", why)
	}
	t.Skipf("zero-copy test skipped: %s", why)
}

func findMkfs() string {
	if p, err := exec.LookPath("mkfs.xfs"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mkfs.xfs", "/sbin/mkfs.xfs"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// toolsScript finds scripts/tools.sh above the test's directory.
func toolsScript() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "scripts", "tools.sh")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
