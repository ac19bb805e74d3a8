package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
		if code != exitIntegrity || strings.Count(stderr, "missing blob sha256:") != 2 {
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

// TestTransferSkopeo: skopeo reads our exports as oci-archive, and we
// import its oci-archive output. Under CI a missing skopeo is a failure.
func TestTransferSkopeo(t *testing.T) {
	skopeo := txFindTool("skopeo")
	if skopeo == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("skopeo not found on PATH or in $HOME/.cache/oci-pack-tools/bin")
		}
		t.Skip("skopeo not installed")
	}
	bin := transferBinary(t)
	src := transferFixture(t, bin)
	dir := t.TempDir()
	want := txReceipt(t, bin, src).Tags["v1"]
	archive := filepath.Join(dir, "ours.tar")
	txOK(t, bin, nil, "export", src+":v1", "-o", archive)
	sk := exec.Command(skopeo, "copy", "--quiet", "oci-archive:"+archive+":v1", "oci:"+filepath.Join(dir, "viaskopeo")+":v1")
	if out, err := sk.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy oci-archive → oci: %v\n%s", err, out)
	}
	if got := txReceipt(t, bin, filepath.Join(dir, "viaskopeo")).Tags["v1"]; got != want {
		t.Errorf("skopeo copied %s, we exported %s", got, want)
	}
	theirs := filepath.Join(dir, "theirs.tar")
	sk = exec.Command(skopeo, "copy", "--quiet", "oci:"+src+":v1", "oci-archive:"+theirs+":v1")
	if out, err := sk.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy oci → oci-archive: %v\n%s", err, out)
	}
	dst := filepath.Join(dir, "dst")
	txOK(t, bin, nil, "import", theirs, dst)
	txOK(t, bin, nil, "verify", dst)
	if got := txReceipt(t, bin, dst).Tags["v1"]; got != want {
		t.Errorf("imported %s from skopeo's archive, source has %s", got, want)
	}
}

// TestTransferForeignTools: `tar -cf` of layouts that oras and regctl
// write (oras adds ingest/) import and verify; oras reads our export as a
// layout tarball. Each tool is skipped when it is not installed.
func TestTransferForeignTools(t *testing.T) {
	bin := transferBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	os.WriteFile(file, []byte("hello"), 0o644)
	writers := map[string][]string{
		"oras":   {"push", "--oci-layout", "LAYOUT:v1", "f.txt", "--artifact-type", "application/vnd.test"},
		"regctl": {"artifact", "put", "--artifact-type", "application/vnd.test", "-f", "f.txt", "ocidir://LAYOUT:v1"},
	}
	for tool, args := range writers {
		t.Run(tool, func(t *testing.T) {
			p := txFindTool(tool)
			if p == "" {
				t.Skipf("%s not installed", tool)
			}
			layoutDir := filepath.Join(dir, tool)
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "LAYOUT", layoutDir)
			}
			cmd := exec.Command(p, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", tool, err, out)
			}
			archive := filepath.Join(dir, tool+".tar")
			if out, err := exec.Command("tar", "-cf", archive, "-C", layoutDir, ".").CombinedOutput(); err != nil {
				t.Fatalf("tar: %v\n%s", err, out)
			}
			dst := filepath.Join(dir, tool+"-imported")
			txOK(t, bin, nil, "import", archive, dst)
			txOK(t, bin, nil, "verify", dst)
			var idx struct{ Manifests []struct{ Digest string } }
			json.Unmarshal(txRead(t, filepath.Join(layoutDir, "index.json")), &idx)
			if got := txReceipt(t, bin, dst).Tags["v1"]; len(idx.Manifests) != 1 || got != idx.Manifests[0].Digest {
				t.Errorf("imported v1 = %s, %s wrote %+v", got, tool, idx.Manifests)
			}
		})
	}
	t.Run("oras-reads-export", func(t *testing.T) {
		oras := txFindTool("oras")
		if oras == "" {
			t.Skip("oras not installed")
		}
		src := transferFixture(t, bin)
		archive := filepath.Join(dir, "ours.tar")
		txOK(t, bin, nil, "export", src+":v1", "-o", archive)
		out := filepath.Join(dir, "via-oras")
		if b, err := exec.Command(oras, "cp", "--from-oci-layout", archive+":v1", "--to-oci-layout", out+":v1").CombinedOutput(); err != nil {
			t.Fatalf("oras cp: %v\n%s", err, b)
		}
		if got, want := txReceipt(t, bin, out).Tags["v1"], txReceipt(t, bin, src).Tags["v1"]; got != want {
			t.Errorf("oras copied %s, we exported %s", got, want)
		}
	})
}

// transferBinary is $OCI_PACK_BIN (make builds it) or a build for this test.
func transferBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("OCI_PACK_BIN"); p != "" {
		return p
	}
	p := filepath.Join(t.TempDir(), "oci-pack")
	cmd := exec.Command("go", "build", "-o", p, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return p
}

// transferFixture packs a layout of a few hundred KB: v1 and v2 share a
// layer and the empty config.
func transferFixture(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]int{"shared.bin": 150_000, "one.bin": 120_000, "two.bin": 90_000, "notes.txt": 700}
	for name, size := range files {
		r := rand.New(rand.NewPCG(uint64(size), 7))
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	src := filepath.Join(dir, "src")
	in := func(n string) string { return filepath.Join(dir, n) }
	txOK(t, bin, nil, "pack", src+":v1", in("shared.bin"), in("one.bin"), in("notes.txt"), "--artifact-type", "application/vnd.test")
	txOK(t, bin, nil, "pack", src+":v2", in("shared.bin"), in("two.bin"), "--artifact-type", "application/vnd.test")
	return src
}

// transferTarget is an initialised, empty layout.
func transferTarget(t *testing.T, bin string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "L")
	txOK(t, bin, nil, "init", dst)
	return dst
}

func txRun(t *testing.T, bin string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("run %v: %v", args, err)
	return 0, "", ""
}

func txOK(t *testing.T, bin string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	code, stdout, stderr := txRun(t, bin, stdin, args...)
	if code != 0 {
		t.Fatalf("oci-pack %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return code, stdout, stderr
}

type txReceiptDoc struct {
	Blobs []string
	Tags  map[string]string
}

func txReceipt(t *testing.T, bin, dir string) txReceiptDoc {
	t.Helper()
	_, out, _ := txOK(t, bin, nil, "receipt", dir)
	var r txReceiptDoc
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("receipt: %v\n%s", err, out)
	}
	return r
}

func txSameTags(t *testing.T, bin, a, b string) {
	t.Helper()
	ra, rb := txReceipt(t, bin, a), txReceipt(t, bin, b)
	if fmt.Sprint(ra.Tags) != fmt.Sprint(rb.Tags) {
		t.Errorf("tags of %s %v, of %s %v", a, ra.Tags, b, rb.Tags)
	}
}

func txRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func txSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func txBlobs(t *testing.T, dir string) []string {
	t.Helper()
	es, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func txStaging(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, _ := os.ReadDir(filepath.Join(dir, ".oci-pack", "tmp"))
	return es
}

func txNoStaging(t *testing.T, dir string) {
	t.Helper()
	if es := txStaging(t, dir); len(es) > 0 {
		t.Errorf("staging left in %s: %v", dir, es)
	}
}

// tarEntries returns where each header starts and where each entry's data
// ends, for an archive of plain (non-PAX) headers.
func txEntries(t *testing.T, a []byte) (starts, ends []int, blob []bool) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(a))
	off := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return append(starts, off, off+512), ends, blob
		}
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, off)
		ends = append(ends, off+512+int(hdr.Size))
		blob = append(blob, strings.HasPrefix(hdr.Name, "blobs/sha256/") && hdr.Typeflag == tar.TypeReg)
		off += 512 + int((hdr.Size+511)/512*512)
	}
}

// cutPoints are every header boundary and an offset inside every entry.
func txCutPoints(t *testing.T, a []byte) []int {
	starts, _, _ := txEntries(t, a)
	var out []int
	for _, s := range starts {
		out = append(out, s, s+300)
	}
	return append(out, len(a)-1)
}

// blobEnds lists where each blob entry's data ends.
func txBlobEnds(t *testing.T, a []byte) []int {
	_, ends, blob := txEntries(t, a)
	var out []int
	for i, e := range ends {
		if blob[i] {
			out = append(out, e)
		}
	}
	return out
}

func txWriteTar(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n]))})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	os.WriteFile(path, buf.Bytes(), 0o644)
}

// findTool looks on PATH, then in $HOME/.cache/oci-pack-tools/bin.
func txFindTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "oci-pack-tools", "bin", name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	return ""
}
