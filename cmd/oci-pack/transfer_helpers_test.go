package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// transferBinary is the binary under test (the package's one harness).
func transferBinary(t *testing.T) string { return bin(t) }

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
	r := rtest.RunWith(t, rtest.Opts{Bin: bin, Stdin: stdin}, args...)
	if r.TimedOut {
		t.Fatalf("oci-pack %s: timed out\n%s", strings.Join(args, " "), r.Stderr)
	}
	return r.Code, r.Stdout, r.Stderr
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
