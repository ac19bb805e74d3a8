//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// treeDigest lists every file under dir with its size and content, so a
// test can tell that nothing in it changed.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			c, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.WriteString(" " + txSHA256(c))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestExportIntoOwnLayout: `export L -o PATH` with PATH inside L — its
// index.json, a blob, the lock file, a new name, through a symlinked
// directory, split or not — is a usage error (exit 2) naming both paths,
// and L stays byte-identical and verifies.
func TestExportIntoOwnLayout(t *testing.T) {
	work, d := packed(t)
	hex := strings.TrimPrefix(d, "sha256:")
	outs := []string{"L/index.json", "L/blobs/sha256/" + hex, "L/.oci-pack/gc.lock", "L/oci-layout", "L/new.tar", "L/blobs/../x.tar"}
	if runtime.GOOS != "windows" {
		if err := os.Symlink("L", filepath.Join(work, "via")); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, "via/index.json")
	}
	before := treeDigest(t, filepath.Join(work, "L"))
	for _, out := range outs {
		for _, extra := range [][]string{nil, {"--split-size", "1KiB"}} {
			for _, src := range []string{"L", "L:v1"} {
				args := append([]string{"export", src, "-o", out}, extra...)
				expect(t, work, exitUsage, []string{"refusing", out, "layout L "}, args...)
			}
		}
	}
	if after := treeDigest(t, filepath.Join(work, "L")); after != before {
		t.Fatalf("the layout changed:\n%s\nwas\n%s", after, before)
	}
	must(t, work, "verify", "L")
	// Beside the layout is fine.
	must(t, work, "export", "L", "-o", "L.tar")
}

// TestExportPlantedPartial: symlinks planted at FILE.partial and
// FILE.sha256.partial pointing outside are replaced, not written through.
func TestExportPlantedPartial(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	work, _ := packed(t)
	sentinel := filepath.Join(t.TempDir(), "sentinel")
	want := []byte("SENTINEL")
	os.WriteFile(sentinel, want, 0o644)
	out := filepath.Join(work, "out")
	os.Mkdir(out, 0o755)
	for _, n := range []string{"x.tar.partial", "x.tar.sha256.partial", "y.tar.000.partial", "y.tar.sha256.partial"} {
		if err := os.Symlink(sentinel, filepath.Join(out, n)); err != nil {
			t.Fatal(err)
		}
	}
	must(t, work, "export", "L", "-o", "out/x.tar")
	must(t, work, "export", "L", "-o", "out/y.tar", "--split-size", "1KiB")
	if got, _ := os.ReadFile(sentinel); !bytes.Equal(got, want) {
		t.Fatalf("sentinel overwritten: %q", got)
	}
	for _, n := range []string{"x.tar", "x.tar.sha256", "y.tar.000", "y.tar.sha256"} {
		if fi, err := os.Lstat(filepath.Join(out, n)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v %v, want a regular file", n, fi, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(out, "*.partial")); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
}

// TestImportVolumeOrder: volumes given out of order are a usage error
// (exit 2) naming the order to use; a missing middle volume is exit 3
// naming only it; in both the layout is untouched.
func TestImportVolumeOrder(t *testing.T) {
	work, _ := packed(t)
	must(t, work, "export", "L", "-o", "x.tar", "--split-size", "1KiB")
	must(t, work, "init", "M")
	before := treeDigest(t, filepath.Join(work, "M"))
	expect(t, work, exitUsage, []string{"out of order", "give them in order, x.tar.000 x.tar.001"}, "import", "x.tar.001", "x.tar.000", "M")
	expect(t, work, exitUsage, []string{"give x.tar.000"}, "import", "x.tar.001", "M")
	if err := os.Remove(filepath.Join(work, "x.tar.001")); err != nil {
		t.Fatal(err)
	}
	r := expect(t, work, exitIntegrity, []string{"lists x.tar.001, not found"}, "import", "x.tar.000", "M")
	if strings.Contains(r.stderr, "x.tar.002") || strings.Contains(r.stderr, "not given") {
		t.Errorf("the error lists volumes that are there: %s", r.stderr)
	}
	os.Remove(filepath.Join(work, "x.tar.sha256"))
	r = expect(t, work, exitIntegrity, []string{"volumes not found: x.tar.001 (x.tar.002 is there"}, "import", "x.tar.000", "M")
	if after := treeDigest(t, filepath.Join(work, "M")); after != before {
		t.Fatalf("M changed:\n%s\nwas\n%s", after, before)
	}
}

// TestExcludeFromStrictReceipt: export --exclude-from refuses a receipt
// with a key that is not exactly its own, with no blobs, or that is null:
// exit 3 naming the file and the key. What `receipt` prints is accepted.
func TestExcludeFromStrictReceipt(t *testing.T) {
	work, _ := packed(t)
	r := must(t, work, "receipt", "L")
	os.WriteFile(filepath.Join(work, "good.json"), []byte(r.stdout), 0o644)
	must(t, work, "export", "L", "--exclude-from", "good.json", "-o", "delta.tar")
	for body, says := range map[string]string{
		`{"Blobs":[],"tags":{}}`: `"Blobs"`,
		`{"blobs":[],"extra":1}`: `unknown key "extra"`,
		`{"tags":{}}`:            `missing key "blobs"`,
		`null`:                   "expected an object",
	} {
		os.WriteFile(filepath.Join(work, "bad.json"), []byte(body), 0o644)
		expect(t, work, exitIntegrity, []string{"bad.json", says}, "export", "L", "--exclude-from", "bad.json", "-o", "x.tar")
	}
	if _, err := os.Stat(filepath.Join(work, "x.tar")); err == nil {
		t.Error("x.tar written from a refused receipt")
	}
}
