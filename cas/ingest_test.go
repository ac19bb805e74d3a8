package cas

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ingestStore opens a store on dir with a staging directory.
func ingestStore(t *testing.T, dir string) *Store {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, "tmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// randomFile writes n random bytes to dir/name and returns the path and
// the bytes.
func randomFile(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// ingest stores the file at p through ReadFromFile and Commit, checks
// the blob holds exactly want under its sha256, and returns the method.
func ingest(t *testing.T, s *Store, p string, want []byte) Method {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := s.Writer(context.Background(), ocispec.Descriptor{})
	if err != nil {
		t.Fatal(err)
	}
	var reported int64
	m, err := w.ReadFromFile(context.Background(), f, func(n int64) { reported += n })
	if err != nil {
		w.Abort()
		t.Fatalf("ReadFromFile(%s): %v", p, err)
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(want)
	if res.Descriptor.Digest != d || res.Descriptor.Size != int64(len(want)) {
		t.Fatalf("%s by %s: stored as %s (%d bytes), want %s (%d)", p, m, res.Descriptor.Digest, res.Descriptor.Size, d, len(want))
	}
	if reported != int64(len(want)) {
		t.Errorf("%s by %s: progress reported %d bytes, want %d", p, m, reported, len(want))
	}
	got, err := os.ReadFile(filepath.Join(s.Dir(), "blobs", "sha256", d.Encoded()))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s by %s: blob content differs from the file (%v)", p, m, err)
	}
	return m
}

// TestReadFromFileKernelCopy: a file on an ordinary file system is moved
// by the kernel (Linux) or copied, and the blob is exactly the file,
// whatever its size relative to the 8 MiB copy chunks.
func TestReadFromFileKernelCopy(t *testing.T) {
	dir := t.TempDir()
	s := ingestStore(t, filepath.Join(dir, "L"))
	for _, n := range []int{1, ingestBuf - 1, ingestChunk, ingestChunk + 1, 2*ingestChunk + 12345} {
		p, b := randomFile(t, dir, fmt.Sprintf("f%d", n), n)
		m := ingest(t, s, p, b)
		want := MethodKernelCopy
		if runtime.GOOS != "linux" {
			want = MethodCopy
		}
		if m != want && m != MethodClone && m != MethodCloneRehashed {
			t.Errorf("%d bytes stored by %q, want %q", n, m, want)
		}
	}
}

// TestReadFromFileAcrossFileSystems: an input on another file system
// (copy_file_range refuses most such pairs since Linux 5.19) is still
// moved by the kernel (sendfile) or copied.
func TestReadFromFileAcrossFileSystems(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux kernel copies")
	}
	shm := "/dev/shm"
	if st, err := os.Stat(shm); err != nil || !st.IsDir() {
		t.Skip("no /dev/shm")
	}
	dir, err := os.MkdirTemp(shm, "ingest-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p, b := randomFile(t, dir, "f", ingestChunk+777)
	s := ingestStore(t, filepath.Join(t.TempDir(), "L"))
	if m := ingest(t, s, p, b); m != MethodKernelCopy && m != MethodCopy {
		t.Errorf("stored by %q", m)
	}
}

// TestReadFromFileProc: a file whose stat size is 0 and whose content is
// made on read (/proc) is stored as the bytes read.
func TestReadFromFileProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	s := ingestStore(t, filepath.Join(t.TempDir(), "L"))
	f, err := os.Open("/proc/self/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := s.Writer(context.Background(), ocispec.Descriptor{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.ReadFromFile(context.Background(), f, nil)
	if err != nil || m != MethodCopy {
		t.Fatalf("ReadFromFile(/proc/self/cmdline) = %q, %v; want %q", m, err, MethodCopy)
	}
	res, err := w.Commit(context.Background())
	if err != nil || res.Descriptor.Size == 0 {
		t.Fatalf("commit: %+v, %v", res, err)
	}
}

// changes are ways to change a file while it is stored.
var changes = map[string]func(p string) error{
	"appended": func(p string) error {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write([]byte("more"))
		return err
	},
	"truncated": func(p string) error { return os.Truncate(p, ingestChunk/2) },
	"rewritten in place": func(p string) error {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteAt([]byte("tail"), 3*ingestChunk-4)
		return err
	},
}

// testChangedWhileStored changes a 3-chunk file in dir after the first
// bytes are hashed, each way in changes, and wants ErrSourceChanged and
// nothing stored.
func testChangedWhileStored(t *testing.T, dir string, s *Store) {
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			p, _ := randomFile(t, dir, "changing", 3*ingestChunk)
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := s.Writer(context.Background(), ocispec.Descriptor{})
			if err != nil {
				t.Fatal(err)
			}
			var once bool
			var changeErr error
			m, err := w.ReadFromFile(context.Background(), f, func(int64) {
				if !once {
					once = true
					changeErr = change(p)
				}
			})
			w.Abort()
			if changeErr != nil {
				t.Fatal(changeErr)
			}
			if !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("file %s while stored by %q: %v, want ErrSourceChanged", name, m, err)
			}
			staged, _ := os.ReadDir(filepath.Join(s.Dir(), "tmp"))
			if len(staged) != 0 {
				t.Fatalf("staging not empty after Abort: %v", staged)
			}
		})
	}
}

func TestReadFromFileChanged(t *testing.T) {
	dir := t.TempDir()
	testChangedWhileStored(t, dir, ingestStore(t, filepath.Join(dir, "L")))
}

// TestReadFromFileCancelled: a cancelled context stops the copy.
func TestReadFromFileCancelled(t *testing.T) {
	dir := t.TempDir()
	s := ingestStore(t, filepath.Join(dir, "L"))
	p, _ := randomFile(t, dir, "f", 3*ingestChunk)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := s.Writer(context.Background(), ocispec.Descriptor{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = w.ReadFromFile(ctx, f, func(int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadFromFile after cancel: %v, want context.Canceled", err)
	}
}
