package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTransferCLI drives export, import and receipt through the built
// binary: exit codes, messages, files on disk.
func TestTransferCLI(t *testing.T) {
	bin := transferBinary(t)
	src := transferFixture(t, bin)
	work := t.TempDir()
	all := filepath.Join(work, "all.tar")
	txOK(t, bin, nil, "export", src, "-o", all)

	t.Run("deterministic-and-sidecar", func(t *testing.T) {
		again := filepath.Join(t.TempDir(), "again.tar")
		txOK(t, bin, nil, "export", src, "-o", again)
		if !bytes.Equal(txRead(t, all), txRead(t, again)) {
			t.Error("two exports differ")
		}
		if want := txSHA256(txRead(t, all)) + "  all.tar\n"; string(txRead(t, all+".sha256")) != want {
			t.Errorf("sidecar %q, want %q", txRead(t, all+".sha256"), want)
		}
		if _, err := exec.LookPath("sha256sum"); err == nil {
			cmd := exec.Command("sha256sum", "-c", "all.tar.sha256")
			cmd.Dir = work
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c: %v\n%s", err, out)
			}
		}
		if ms, _ := filepath.Glob(filepath.Join(work, "*.partial")); len(ms) > 0 {
			t.Errorf("left behind: %v", ms)
		}
	})

	t.Run("split-round-trip", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "s.tar")
		txOK(t, bin, nil, "export", src, "-o", out, "--split-size", "64KiB")
		vols, _ := filepath.Glob(out + ".0*")
		sort.Strings(vols)
		var joined []byte
		for _, v := range vols {
			b := txRead(t, v)
			if len(b) > 64<<10 {
				t.Errorf("%s: %d bytes", v, len(b))
			}
			joined = append(joined, b...)
		}
		if len(vols) < 4 || !bytes.Equal(joined, txRead(t, all)) {
			t.Fatalf("%d volumes; joined equal to the unsplit export: %v", len(vols), bytes.Equal(joined, txRead(t, all)))
		}
		dst := filepath.Join(dir, "dst")
		_, _, stderr := txOK(t, bin, nil, "import", out+".000", dst)
		if !strings.Contains(stderr, "tags: v1 (new), v2 (new)") {
			t.Errorf("import report: %s", stderr)
		}
		txOK(t, bin, nil, "verify", dst)
		txSameTags(t, bin, src, dst)
	})

	t.Run("stdout-to-stdin-zstd", func(t *testing.T) {
		_, archive, _ := txOK(t, bin, nil, "export", src+":v2", "-o", "-", "--compression", "zstd")
		if !bytes.HasPrefix([]byte(archive), []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			t.Fatal("stdout is not a zstd stream")
		}
		dst := filepath.Join(t.TempDir(), "dst")
		txOK(t, bin, strings.NewReader(archive), "import", "-", dst)
		txOK(t, bin, nil, "verify", dst)
		if r := txReceipt(t, bin, dst); len(r.Tags) != 1 || r.Tags["v2"] != txReceipt(t, bin, src).Tags["v2"] {
			t.Errorf("tags after import %v", r.Tags)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		a := txRead(t, all)
		dst := transferTarget(t, bin)
		before := txRead(t, filepath.Join(dst, "index.json"))
		dir := t.TempDir()
		cut := filepath.Join(dir, "cut.tar")
		for _, n := range txCutPoints(t, a) {
			os.WriteFile(cut, a[:n], 0o644)
			code, _, stderr := txRun(t, bin, nil, "import", cut, dst)
			if code != exitIntegrity || !strings.Contains(stderr, "truncated") && !strings.Contains(stderr, "incomplete") {
				t.Errorf("cut at %d: exit %d, %s", n, code, stderr)
			}
			if !bytes.Equal(txRead(t, filepath.Join(dst, "index.json")), before) {
				t.Fatalf("cut at %d: index.json changed", n)
			}
			txNoStaging(t, dst)
		}
		// With the sidecar of the whole archive beside the cut copy, the
		// checksum is what is reported.
		os.WriteFile(cut, a[:len(a)/2], 0o644)
		os.WriteFile(cut+".sha256", []byte(txSHA256(a)+"  cut.tar\n"), 0o644)
		code, _, stderr := txRun(t, bin, nil, "import", cut, dst)
		if code != exitIntegrity || !strings.Contains(stderr, "checksum mismatch: file truncated or corrupted") {
			t.Errorf("cut with sidecar: exit %d, %s", code, stderr)
		}
		if !bytes.Equal(txRead(t, filepath.Join(dst, "index.json")), before) {
			t.Fatal("index.json changed")
		}
		txOK(t, bin, nil, "import", all, dst)
		txOK(t, bin, nil, "verify", dst)
	})

	t.Run("delta", func(t *testing.T) {
		dir := t.TempDir()
		site := filepath.Join(dir, "site")
		v1 := filepath.Join(dir, "v1.tar")
		txOK(t, bin, nil, "export", src+":v1", "-o", v1)
		txOK(t, bin, nil, "import", v1, site)
		_, rcpt, _ := txOK(t, bin, nil, "receipt", site)
		os.WriteFile(filepath.Join(dir, "site.json"), []byte(rcpt), 0o644)
		delta := filepath.Join(dir, "delta.tar")
		_, _, stderr := txOK(t, bin, nil, "export", src+":v2", "--exclude-from", filepath.Join(dir, "site.json"), "-o", delta)
		if !strings.Contains(stderr, "left out 2 blob(s)") {
			t.Errorf("export report: %s", stderr)
		}
		empty := filepath.Join(dir, "empty")
		txOK(t, bin, nil, "init", empty)
		before := txRead(t, filepath.Join(empty, "index.json"))
		code, _, stderr := txRun(t, bin, nil, "import", delta, empty)
		if code != exitIntegrity || !strings.Contains(stderr, "the archive is a delta") || !strings.Contains(stderr, "lacks 2 blob(s)") {
			t.Errorf("delta into an empty layout: exit %d, %s", code, stderr)
		}
		if !bytes.Equal(txRead(t, filepath.Join(empty, "index.json")), before) {
			t.Error("index.json changed")
		}
		txOK(t, bin, nil, "import", delta, site)
		txOK(t, bin, nil, "verify", site)
		txSameTags(t, bin, src, site)
	})

	t.Run("tag-conflict-and-hostile", func(t *testing.T) {
		dst := transferTarget(t, bin)
		other := filepath.Join(t.TempDir(), "x.txt")
		os.WriteFile(other, []byte("other"), 0o644)
		txOK(t, bin, nil, "pack", dst+":v1", other, "--artifact-type", "application/vnd.test")
		before := txRead(t, filepath.Join(dst, "index.json"))
		code, _, stderr := txRun(t, bin, nil, "import", all, dst)
		if code != exitConflict || !strings.Contains(stderr, `tag "v1" exists in layout with sha256:`) {
			t.Errorf("conflict: exit %d, %s", code, stderr)
		}
		if !bytes.Equal(txRead(t, filepath.Join(dst, "index.json")), before) {
			t.Error("index.json changed on conflict")
		}
		evil := filepath.Join(t.TempDir(), "evil.tar")
		txWriteTar(t, evil, map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "../escape": "x"})
		code, _, stderr = txRun(t, bin, nil, "import", evil, dst)
		if code != exitIntegrity || !strings.Contains(stderr, `"../escape"`) {
			t.Errorf("traversal: exit %d, %s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "escape")); err == nil {
			t.Error("../escape was written")
		}
		txNoStaging(t, dst)
		_, _, stderr = txOK(t, bin, nil, "import", all, dst, "--tag-conflict", "overwrite")
		if !strings.Contains(stderr, "v1 (moved from sha256:") {
			t.Errorf("overwrite report: %s", stderr)
		}
	})

	t.Run("export-damaged-layout", func(t *testing.T) {
		// B-20, B-21: a torn index.json or a rotten blob fails the export
		// with exit 3 and leaves no archive, partial or final.
		for _, damage := range []string{"torn-index", "bit-rot"} {
			l := filepath.Join(t.TempDir(), "L")
			if out, err := exec.Command("cp", "-a", src, l).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			if damage == "torn-index" {
				idx := txRead(t, filepath.Join(l, "index.json"))
				os.WriteFile(filepath.Join(l, "index.json"), idx[:100], 0o644)
			} else {
				blobs := txBlobs(t, l)
				var biggest string
				var size int64
				for _, b := range blobs {
					if fi, _ := os.Stat(filepath.Join(l, "blobs", "sha256", b)); fi.Size() > size {
						biggest, size = b, fi.Size()
					}
				}
				f, _ := os.OpenFile(filepath.Join(l, "blobs", "sha256", biggest), os.O_WRONLY, 0)
				f.WriteAt([]byte{0}, 100)
				f.Close()
			}
			out := filepath.Join(t.TempDir(), "x.tar")
			code, _, stderr := txRun(t, bin, nil, "export", l, "-o", out)
			if code != exitIntegrity {
				t.Errorf("%s: exit %d, %s", damage, code, stderr)
			}
			if left, _ := filepath.Glob(out + "*"); len(left) > 0 {
				t.Errorf("%s: left %v", damage, left)
			}
		}
	})

	t.Run("concurrent-imports", func(t *testing.T) {
		// RELIABILITY D-43: four processes import the same archive into
		// one layout at once; all succeed, one copy of each blob.
		dst := transferTarget(t, bin)
		errs := make(chan string, 4)
		for range 4 {
			go func() {
				cmd := exec.Command(bin, "import", all, dst)
				out, err := cmd.CombinedOutput()
				if err != nil {
					errs <- fmt.Sprintf("%v: %s", err, out)
					return
				}
				errs <- ""
			}()
		}
		for range 4 {
			if e := <-errs; e != "" {
				t.Error(e)
			}
		}
		txOK(t, bin, nil, "verify", dst)
		txSameTags(t, bin, src, dst)
		txNoStaging(t, dst)
	})

	t.Run("other-filesystem", func(t *testing.T) {
		shm, err := os.MkdirTemp("/dev/shm", "oci-pack-test-")
		if err != nil {
			t.Skip("no /dev/shm")
		}
		defer os.RemoveAll(shm)
		out := filepath.Join(shm, "all.tar")
		txOK(t, bin, nil, "export", src, "-o", out)
		if !bytes.Equal(txRead(t, out), txRead(t, all)) {
			t.Error("export to another file system differs")
		}
	})

	t.Run("resume-after-kill", func(t *testing.T) {
		a := txRead(t, all)
		clean := transferTarget(t, bin)
		txOK(t, bin, nil, "import", all, clean)
		dst := transferTarget(t, bin)
		before := txRead(t, filepath.Join(dst, "index.json"))
		k, complete := len(a)*6/10, 0
		for _, end := range txBlobEnds(t, a) {
			if end <= k {
				complete++
			}
		}
		if complete < 2 {
			t.Fatalf("only %d blobs before byte %d", complete, k)
		}
		held := len(txBlobs(t, dst))
		cmd := exec.Command(bin, "import", "-", dst)
		stdin, _ := cmd.StdinPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdin.Write(a[:k]) // and keep the pipe open: the import waits for more
		deadline := time.Now().Add(60 * time.Second)
		for len(txBlobs(t, dst)) < held+complete && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		stdin.Close()
		if got := len(txBlobs(t, dst)) - held; got < complete {
			t.Fatalf("%d blobs committed before the kill, want %d", got, complete)
		}
		if !bytes.Equal(txRead(t, filepath.Join(dst, "index.json")), before) {
			t.Fatal("index.json changed by the killed import")
		}
		txOK(t, bin, nil, "verify", dst)
		_, out, _ := txOK(t, bin, nil, "import", all, dst, "--format", "json")
		var res struct {
			Reused, Imported int
			ReusedBytes      int64
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if res.ReusedBytes <= 0 || res.Imported == 0 {
			t.Errorf("re-run: %+v, want bytes reused and the rest imported", res)
		}
		if !bytes.Equal(txRead(t, filepath.Join(dst, "index.json")), txRead(t, filepath.Join(clean, "index.json"))) {
			t.Error("index.json after resume differs from an uninterrupted import's")
		}
		if a, b := txBlobs(t, dst), txBlobs(t, clean); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("blobs after resume %v, uninterrupted %v", a, b)
		}
	})

	t.Run("sigterm-cleans-staging", func(t *testing.T) {
		a := txRead(t, all)
		dst := transferTarget(t, bin)
		cmd := exec.Command(bin, "import", "-", dst)
		stdin, _ := cmd.StdinPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Start()
		stdin.Write(a[:len(a)/2])
		deadline := time.Now().Add(60 * time.Second)
		for len(txStaging(t, dst)) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		stdin.Close() // a read that was in flight now ends; the context is cancelled
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("import after SIGTERM: %v, %s", err, stderr.String())
		}
		txNoStaging(t, dst)
	})
}
