//go:build linux

package adversarial

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Group D without strace: concurrent writers, lost updates, gc during
// work, and a real full disk. The strace-injected faults and the kill -9
// sweep are the crash suite's.

// TestD43_ConcurrentSameBlob: 4 processes import the same tarball into L
// at once: every one exits 0, every blob is stored once, index.json is
// valid with v1, no staging is left, verify passes.
func TestD43_ConcurrentSameBlob(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	f := w.Good.Clone(t)
	f.EditManifest(t, "v1", func(m *ocispec.Manifest) {
		big := rtest.Bytes(3<<20, 43) // large enough that the imports overlap
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: rtest.LayerType, Digest: f.Put(big), Size: int64(len(big)), Annotations: map[string]string{rtest.TitleKey: "big.bin"}})
	})
	p := w.input(t, "same.tar", f.Tar(t))
	results := parallel(t, 4, func(i int) rtest.Result { return w.run(t, "import", "-q", p, w.L) })
	for _, r := range results {
		if r.Code != 0 {
			t.Errorf("concurrent import: %v", r)
		}
	}
	if got := w.tagDigest(t, "v1"); got != f.Tagged(t, "v1").Digest.String() {
		t.Errorf("v1 is %q, want %s", got, f.Tagged(t, "v1").Digest)
	}
	for d := range f.Blobs {
		if _, err := os.Stat(w.blobPath(d)); err != nil {
			t.Errorf("blob %s: %v", d, err)
		}
	}
	rtest.AssertNoStaging(t, w.L)
	rtest.AssertVerify(t, w.L)
	w.S.AssertIntact(t)
}

// parallel runs n copies of f at once and returns their results.
func parallel(t testing.TB, n int, f func(i int) rtest.Result) []rtest.Result {
	out := make([]rtest.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = f(i) }()
	}
	wg.Wait()
	return out
}

// TestD44_LostUpdate: 8 processes tag one digest t0…t7 while two imports
// of different archives run: all 8 tags and both images are there
// afterwards (ggcr#849, oras#149, containers/image#513). With --no-wait a
// busy layout is exit 4 naming the holder, "waited 0s".
func TestD44_LostUpdate(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	v1 := w.Good.Tagged(t, "v1").Digest.String()
	a, b := rtest.Good(t), rtest.Good(t)
	a.SetTag(t, "a", artifact(t, a, map[string][]byte{"a.bin": rtest.Bytes(1<<20, 44)}))
	b.SetTag(t, "b", artifact(t, b, map[string][]byte{"b.bin": rtest.Bytes(1<<20, 45)}))
	pa, pb := w.input(t, "a.tar", a.Tar(t)), w.input(t, "b.tar", b.Tar(t))
	results := parallel(t, 10, func(i int) rtest.Result {
		switch i {
		case 8:
			return w.run(t, "import", "-q", pa, w.L)
		case 9:
			return w.run(t, "import", "-q", pb, w.L)
		}
		return w.run(t, "tag", "-q", w.L+"@"+v1, fmt.Sprintf("t%d", i))
	})
	for _, r := range results {
		if r.Code != 0 {
			t.Errorf("concurrent update: %v", r)
		}
	}
	tags := tags(t, w.L)
	for i := range 8 {
		if tags[fmt.Sprintf("t%d", i)] != v1 {
			t.Errorf("tag t%d lost: %v", i, tags)
		}
	}
	if tags["a"] != a.Tagged(t, "a").Digest.String() || tags["b"] != b.Tagged(t, "b").Digest.String() || tags["v1"] != v1 {
		t.Errorf("an import's tag was lost: %v", tags)
	}
	rtest.AssertVerify(t, w.L)
	rtest.AssertNoStaging(t, w.L)

	// --no-wait: the layout held exclusively (as gc holds it) by this
	// process, then shared by a live import while gc asks for it.
	lock, err := os.OpenFile(filepath.Join(w.L, ".oci-pack", "gc.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	snap := rtest.Snap(t, w.L)
	r := w.run(t, "tag", "-q", "--no-wait", w.L+"@"+v1, "busy")
	rtest.AssertFail(t, r, rtest.ExitConflict, "locked by pid "+strconv.Itoa(os.Getpid()), "waited 0s")
	// The holder here is this test binary, not oci-pack: the message
	// names the program it is ("adversarial.test"), so a user looks for
	// the right process.
	if self := filepath.Base(os.Args[0]); !strings.Contains(r.Stderr, "pid "+strconv.Itoa(os.Getpid())+" ("+self+")") {
		t.Errorf("lock holder not named as %s: %s", self, r.Stderr)
	}
	r = w.run(t, "tag", "-q", "--lock-timeout", "300ms", w.L+"@"+v1, "busy")
	rtest.AssertFail(t, r, rtest.ExitConflict, "locked", "--lock-timeout")
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	lock.Close()
	snap.AssertUnchanged(t)

	pr, pw, _ := os.Pipe()
	cmd := exec.Command(rtest.Bin(t), "import", "-q", "-", w.L)
	cmd.Stdin = pr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	good := w.Good.Tar(t)
	pw.Write(good[:1024])
	waitFor(t, func() bool { return holdsLock(cmd.Process.Pid, filepath.Join(w.L, ".oci-pack", "gc.lock")) })
	r = w.run(t, "gc", "-q", "--no-wait", w.L)
	rtest.AssertFail(t, r, rtest.ExitConflict, fmt.Sprintf("locked by pid %d (oci-pack", cmd.Process.Pid), "waited 0s")
	pw.Write(good[1024:])
	pw.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("the import holding the layout: %v", err)
	}
	pr.Close()
}

// holdsLock reports whether pid holds a flock on path (/proc/locks).
func holdsLock(pid int, path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	b, _ := os.ReadFile("/proc/locks")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 && f[4] == strconv.Itoa(pid) && strings.HasSuffix(f[5], ":"+strconv.FormatUint(ino, 10)) {
			return true
		}
	}
	return false
}

// TestD45_GCDuringWork: gc runs in a loop while 10 imports and 10
// extracts (and exports) run: none fails because gc removed a blob it
// used, no referenced blob is missing afterwards, verify passes.
func TestD45_GCDuringWork(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, rtest.Good(t))
	var archives []string
	var want []string
	for i := range 10 {
		f := rtest.Good(t)
		tag := fmt.Sprintf("g%d", i)
		f.SetTag(t, tag, artifact(t, f, map[string][]byte{"f.bin": rtest.Bytes(200_000, uint64(100+i))}))
		archives = append(archives, w.input(t, tag+".tar", f.Tar(t)))
		want = append(want, tag)
	}
	stop := make(chan struct{})
	gcDone := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				gcDone <- n
				return
			default:
			}
			if r := w.run(t, "gc", "-q", w.L); r.Code != 0 {
				t.Errorf("gc: %v", r)
			}
			n++
		}
	}()
	for i, p := range archives {
		if r := w.run(t, "import", "-q", p, w.L); r.Code != 0 {
			t.Errorf("import during gc: %v", r)
		}
		out := filepath.Join(w.Out, want[i])
		if r := w.run(t, "extract", "-q", w.L+":"+want[i], "-o", out); r.Code != 0 {
			t.Errorf("extract during gc: %v", r)
		}
		if r := w.run(t, "export", "-q", w.L+":v1", "-o", filepath.Join(w.In, fmt.Sprintf("e%d.tar", i))); r.Code != 0 {
			t.Errorf("export during gc: %v", r)
		}
	}
	close(stop)
	t.Logf("%d gc runs", <-gcDone)
	tags := tags(t, w.L)
	for _, tag := range want {
		if tags[tag] == "" {
			t.Errorf("tag %s missing", tag)
		}
	}
	rtest.AssertVerify(t, w.L)
	rtest.AssertNoStaging(t, w.L)
	w.S.AssertIntact(t)
}

// TestD39_DiskFull: a real full disk. Import, pack and extract onto a
// small tmpfs (unshare -rm, where user namespaces are allowed) fail with
// exit 1 (I11: ENOSPC is an environment failure; RELIABILITY D-39's
// sketch says 3) naming the space problem, with L untouched and no
// staging or partial file; after space is freed the same command
// succeeds. A file-size limit (prlimit --fsize, EFBIG, what a FAT32 stick
// gives) and `export -o -` into /dev/full run everywhere, as the CI
// fallbacks.
func TestD39_DiskFull(t *testing.T) {
	t.Parallel()
	zeros := make([]byte, 40<<20)
	mk := func(t *testing.T) (*world, *rtest.Fixture, string) {
		w := newWorld(t)
		f := rtest.Good(t)
		f.SetTag(t, "big", artifact(t, f, map[string][]byte{"zeros.bin": zeros}))
		return w, f, w.input(t, "big.tar", f.Tar(t))
	}
	t.Run("tmpfs", func(t *testing.T) {
		t.Parallel()
		w, f, p := mk(t)
		mnt := filepath.Join(w.In, "mnt")
		os.MkdirAll(mnt, 0o755)
		fs, err := rtest.NewTmpfs(t, mnt, "24m")
		if err != nil {
			t.Skipf("no tmpfs in a private mount namespace (the prlimit and /dev/full cases still run): %v", err)
		}
		L := filepath.Join(mnt, "L")
		fs.Exec(t, "cp", "-a", w.L, L)
		snap := rtest.Snap(t, fs.View(L))
		in := rtest.Opts{Wrap: fs.Wrap, Timeout: time.Minute}
		// Known sizes: refused before writing (pre-flight against free space).
		r := rtest.RunWith(t, in, "import", "-q", p, L)
		rtest.AssertFail(t, r, rtest.ExitFailure, "bytes free in")
		snap.AssertUnchanged(t)
		// Budget lifted: the write itself hits ENOSPC.
		r = rtest.RunWith(t, in, "import", "-q", p, L, "--max-bytes", "1GiB")
		rtest.AssertFail(t, r, rtest.ExitFailure, "no space left on device")
		snap.AssertUnchanged(t)
		// pack of a 40 MiB file.
		src := w.input(t, "zeros.bin", zeros)
		r = rtest.RunWith(t, in, "pack", "-q", L+":p", src, "--artifact-type", rtest.ArtifactType)
		rtest.AssertFail(t, r, rtest.ExitFailure, "no space left on device")
		snap.AssertUnchanged(t)
		if r := rtest.RunWith(t, in, "verify", "-q", L); r.Code != 0 {
			t.Errorf("[V] verify on the full disk: %v", r)
		}
		// extract into the full tmpfs from a layout outside it.
		Lbig := filepath.Join(w.In, "Lbig")
		f.WriteDir(t, Lbig)
		out := filepath.Join(mnt, "out")
		r = rtest.RunWith(t, in, "extract", "-q", Lbig+":big", "-o", out)
		rtest.AssertFail(t, r, rtest.ExitFailure, "space")
		if es, _ := os.ReadDir(fs.View(out)); len(es) > 0 {
			t.Errorf("[N] a failed extract left %v in OUT", es)
		}
		// Space freed (a bigger disk): the same import succeeds.
		mnt2 := filepath.Join(w.In, "mnt2")
		os.MkdirAll(mnt2, 0o755)
		fs2, err := rtest.NewTmpfs(t, mnt2, "160m")
		if err != nil {
			t.Fatal(err)
		}
		L2 := filepath.Join(mnt2, "L")
		fs2.Exec(t, "cp", "-a", w.L, L2)
		if r := rtest.RunWith(t, rtest.Opts{Wrap: fs2.Wrap}, "import", "-q", p, L2); r.Code != 0 {
			t.Errorf("[V] import once there is space: %v", r)
		}
		w.S.AssertIntact(t)
	})
	t.Run("file-size-limit", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("prlimit"); err != nil {
			t.Skip("prlimit not found")
		}
		w, _, p := mk(t)
		lim := rtest.Opts{Dir: w.Work, Wrap: []string{"prlimit", "--fsize=" + strconv.Itoa(8<<20), "--"}, Timeout: time.Minute}
		r := rtest.RunWith(t, lim, "import", "-q", p, w.L)
		rtest.AssertFail(t, r, rtest.ExitFailure, "file too large")
		w.Snap.AssertUnchanged(t)
		src := w.input(t, "zeros.bin", zeros)
		r = rtest.RunWith(t, lim, "pack", "-q", w.L+":p", src, "--artifact-type", rtest.ArtifactType)
		rtest.AssertFail(t, r, rtest.ExitFailure, "file too large")
		w.Snap.AssertUnchanged(t)
		x := filepath.Join(w.In, "x.tar")
		if r := w.run(t, "import", "-q", p, w.L); r.Code != 0 {
			t.Fatalf("import without the limit: %v", r)
		}
		w.Snap = rtest.Snap(t, w.L)
		r = rtest.RunWith(t, lim, "export", "-q", w.L+":big", "-o", x)
		rtest.AssertFail(t, r, rtest.ExitFailure, "file too large")
		if _, err := os.Lstat(x); err == nil {
			t.Errorf("[N] a failed export left %s", x)
		}
		r = rtest.RunWith(t, lim, "extract", "-q", w.L+":big", "-o", w.Out)
		rtest.AssertFail(t, r, rtest.ExitFailure, "file too large")
		assertEmptyDir(t, w.Out)
		w.Snap.AssertUnchanged(t)
		rtest.AssertNoStaging(t, w.L, w.In, w.Out)
		rtest.AssertVerify(t, w.L)
		w.S.AssertIntact(t)
	})
	t.Run("dev-full", func(t *testing.T) {
		t.Parallel()
		w := newWorldWith(t, rtest.Good(t))
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Skipf("/dev/full: %v", err)
		}
		defer full.Close()
		r := rtest.RunWith(t, rtest.Opts{Stdout: full}, "export", "-q", w.L+":v1", "-o", "-")
		rtest.AssertFail(t, r, rtest.ExitFailure, "no space left on device")
		w.Snap.AssertUnchanged(t)
		rtest.AssertNoStaging(t, w.L)
	})
}
