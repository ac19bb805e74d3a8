//go:build linux

package crash

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// artifactType is what every test artifact is packed as.
const artifactType = "application/vnd.oci-pack.crash.v1"

// template is the shared starting point of every case: input files under
// In and a layout L0 holding two tags, plus good.tar, an export of
// another layout to import.
//
//	in/a.bin   2.5 MiB   in/b.bin  3000 B   in/c.bin  1.5 MiB + 17 B
//	in/d/      a directory (a tar layer): x.txt 10 KB, sub/y.bin 300 KB
//	in/e.bin   1.2 MiB (only in good.tar)
//	L0:v0      b.bin                       L0:v1  a.bin, d/
//	good.tar   tag g1: e.bin, b.bin (b.bin's blob is shared with L0)
//
// Blobs of a few MiB are written in several 1 MiB writes, so a kill can
// land in the middle of one.
type template struct {
	Dir     string
	In      string
	L0      string
	GoodTar string
}

func newTemplate(t testing.TB) *template {
	t.Helper()
	dir := scratchDir(t)
	tp := &template{Dir: dir, In: filepath.Join(dir, "in"), L0: filepath.Join(dir, "L0"), GoodTar: filepath.Join(dir, "good.tar")}
	for name, b := range map[string][]byte{
		"a.bin":       rtest.Bytes(5<<19, 1),
		"b.bin":       rtest.Bytes(3000, 2),
		"c.bin":       rtest.Bytes(3<<19+17, 3),
		"d/x.txt":     []byte(strings.Repeat("crash-safety ", 770)),
		"d/sub/y.bin": rtest.Bytes(300<<10, 4),
		"e.bin":       rtest.Bytes(12<<17, 5),
	} {
		writeFile(t, filepath.Join(tp.In, name), b)
	}
	in := func(n string) string { return filepath.Join(tp.In, n) }
	g := filepath.Join(dir, "G")
	must(t, "pack", "-q", tp.L0+":v0", in("b.bin"), "--artifact-type", artifactType)
	must(t, "pack", "-q", tp.L0+":v1", in("a.bin"), in("d"), "--artifact-type", artifactType)
	must(t, "pack", "-q", g+":g1", in("e.bin"), in("b.bin"), "--artifact-type", artifactType)
	must(t, "export", "-q", g+":g1", "-o", tp.GoodTar)
	return tp
}

// scratchDir is a new directory removed when t ends: on a tmpfs
// (/dev/shm) when one with room is there, else t.TempDir(). A kill -9
// loses nothing from the page cache, so the crash sweep does not need
// fsync to reach a disk, and on a busy machine disk flushes would
// dominate its run time. (The fsync-order lint checks the calls, not
// their effect.)
func scratchDir(t testing.TB) string {
	t.Helper()
	var st syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	if syscall.Statfs("/dev/shm", &st) == nil && st.Type == tmpfsMagic && int64(st.Bavail)*st.Bsize > 2<<30 {
		if dir, err := os.MkdirTemp("/dev/shm", "oci-pack-crash-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// must runs the binary and fails the test unless it exits 0.
func must(t testing.TB, args ...string) rtest.Result {
	t.Helper()
	return rtest.Must(t, args...)
}

// copyTree copies the regular files, directories and symlinks under src
// to dst, keeping modes.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, fi.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		}
		return copyFile(p, to, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fileSHA is p's sha256 in hex, "absent" if missing, or the file type if
// it is not a regular file.
func fileSHA(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return "absent"
	}
	if !fi.Mode().IsRegular() {
		return "not a regular file: " + fi.Mode().Type().String()
	}
	f, err := os.Open(p)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable: " + err.Error()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// files maps every regular file under dir (relative, slash-separated) to
// its sha256; other entries map to their type. skip leaves out entries
// (and directories) whose relative path it accepts.
func files(dir string, skip func(rel string) bool) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			out[rel] = fileSHA(p)
		}
		return nil
	})
	return out
}

// blobSet lists L's blobs (blobs/<alg>/<hex> → content sha256).
func blobSet(dir string) map[string]string {
	return files(filepath.Join(dir, "blobs"), nil)
}

// badBlobs checks [N] on the blob store: every file under blobs/ is a
// regular file whose content hashes to its name. It lists those that
// are not.
func badBlobs(dir string) []string {
	var out []string
	for rel, sum := range blobSet(dir) {
		alg, hexName, ok := strings.Cut(rel, "/")
		if !ok || alg != "sha256" || hexName != sum {
			out = append(out, fmt.Sprintf("blobs/%s (content sha256 %s)", rel, sum))
		}
	}
	sort.Strings(out)
	return out
}

// stagingLeft lists what is in L/.oci-pack/tmp.
func stagingLeft(dir string) []string {
	entries, _ := os.ReadDir(filepath.Join(dir, ".oci-pack", "tmp"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// tags are a layout's tags → digests, read from index.json.
func tags(t testing.TB, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatalf("read index.json: %v", err)
	}
	var idx struct {
		Manifests []struct {
			Digest      string
			Annotations map[string]string
		}
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index.json of %s: %v\n%s", dir, err, b)
	}
	out := map[string]string{}
	for _, m := range idx.Manifests {
		if n, ok := m.Annotations["org.opencontainers.image.ref.name"]; ok {
			out[n] = m.Digest
		}
	}
	return out
}

// writeFile writes b to p, creating its directory.
func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile is p's content, or nil if it cannot be read.
func readFile(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}
