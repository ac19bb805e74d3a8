package layout_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
)

func TestInitIdempotent(t *testing.T) {
	dir, a := goodLayout(t)
	before := readFile(t, filepath.Join(dir, "index.json"))
	if err := layout.Init(dir); err != nil {
		t.Fatalf("Init on an existing layout: %v", err)
	}
	if after := readFile(t, filepath.Join(dir, "index.json")); !bytes.Equal(before, after) {
		t.Fatalf("Init rewrote index.json:\n%s\n%s", before, after)
	}
	l, _ := open(t, dir, layout.ReadOnly)
	if d, err := l.Resolve(ctx, layout.Ref{Layout: dir, Tag: "v1"}); err != nil || d.Digest != a.manifest.Digest {
		t.Fatalf("v1 after re-Init = %v, %v", d.Digest, err)
	}
	l.Close()
	layouttest.Check(t, dir)
}

func TestInitConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "L")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = layout.Init(dir) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	layouttest.Check(t, dir)
}

func TestInitRefusesNonEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	err := layout.Init(dir)
	if !errors.Is(err, layout.ErrNotLayout) || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Init of a non-empty directory = %v, want ErrNotLayout saying it is not empty", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("Init of a non-empty directory left %d entries, want only notes.txt", len(entries))
	}
	// .oci-pack alone (a lock left by an earlier command) does not count.
	dir2 := t.TempDir()
	os.Mkdir(filepath.Join(dir2, ".oci-pack"), 0o755)
	if err := layout.Init(dir2); err != nil {
		t.Fatalf("Init with only .oci-pack present: %v", err)
	}
	layouttest.Check(t, dir2)
}

func TestOpenMissingOrNotDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := open(t, missing, layout.ReadOnly); !errors.Is(err, layout.ErrNotLayout) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Open of a missing dir = %v, want ErrNotLayout naming it", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open without Create created %s", missing)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := open(t, file, layout.ReadOnly); !errors.Is(err, layout.ErrNotLayout) {
		t.Fatalf("Open of a file = %v, want ErrNotLayout", err)
	}
}

// TestOpenInvalidTopLevel is RELIABILITY B-19: every broken top-level file
// is an error naming the file, nothing hangs, nothing is repaired.
func TestOpenInvalidTopLevel(t *testing.T) {
	cases := []struct {
		name   string
		breakL func(dir string) error
		atOpen bool   // Open fails (else Index does)
		want   string // in the message
		class  error
	}{
		{"missing oci-layout", func(d string) error { return os.Remove(filepath.Join(d, "oci-layout")) }, true, "missing oci-layout", layout.ErrNotLayout},
		{"oci-layout not JSON", func(d string) error { return os.WriteFile(filepath.Join(d, "oci-layout"), []byte("hello"), 0o644) }, true, "oci-layout", layout.ErrNotLayout},
		{"oci-layout wrong version", func(d string) error {
			return os.WriteFile(filepath.Join(d, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644)
		}, true, `imageLayoutVersion "2.0.0"`, layout.ErrNotLayout},
		{"oci-layout FIFO", func(d string) error { return replaceWith(d, "oci-layout", mkfifo) }, true, "oci-layout", layout.ErrNotLayout},
		{"blobs is a file", func(d string) error {
			return replaceWith(d, "blobs", func(p string) error { return os.WriteFile(p, nil, 0o644) })
		}, true, "blobs is regular file", layout.ErrNotLayout},
		{"index.json missing", func(d string) error { return os.Remove(filepath.Join(d, "index.json")) }, false, "missing index.json", layout.ErrNotLayout},
		{"index.json a directory", func(d string) error {
			return replaceWith(d, "index.json", func(p string) error { return os.Mkdir(p, 0o755) })
		}, false, "index.json", layout.ErrCorrupt},
		{"index.json a symlink", func(d string) error {
			return replaceWith(d, "index.json", func(p string) error { return os.Symlink("/etc/passwd", p) })
		}, false, "symlink", layout.ErrCorrupt},
		{"index.json a FIFO", func(d string) error { return replaceWith(d, "index.json", mkfifo) }, false, "named pipe", layout.ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := goodLayout(t)
			if err := c.breakL(dir); errors.Is(err, errors.ErrUnsupported) {
				t.Skip(err)
			} else if err != nil {
				t.Fatal(err)
			}
			before := listing(t, dir)
			err := withTimeout(t, func() error {
				l, err := layout.Open(dir, layout.Options{Mode: layout.ReadOnly})
				if err != nil {
					if !c.atOpen {
						t.Errorf("Open failed early: %v", err)
					}
					return err
				}
				defer l.Close()
				if c.atOpen {
					t.Errorf("Open succeeded, want it to fail")
				}
				_, err = l.Index(ctx)
				return err
			})
			if !errors.Is(err, c.class) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %v containing %q", err, c.class, c.want)
			}
			if after := listing(t, dir); after != before {
				t.Fatalf("a read-only open changed the layout:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// TestTornIndex is RELIABILITY B-20: a truncated index.json is an error
// that says so, never an empty index, and writers refuse to build on it.
func TestTornIndex(t *testing.T) {
	for _, n := range []int{100, 0} {
		dir, a := goodLayout(t)
		p := filepath.Join(dir, "index.json")
		full := readFile(t, p)
		if len(full) <= 100 {
			t.Fatalf("index.json is only %d bytes; the case needs more", len(full))
		}
		os.WriteFile(p, full[:n], 0o644)
		l := openRW(t, dir)
		_, err := l.Index(ctx)
		if !errors.Is(err, layout.ErrCorrupt) || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "index.json") {
			t.Fatalf("%d-byte index.json: %v, want ErrCorrupt naming index.json and truncation", n, err)
		}
		if _, err := l.Tag(ctx, "v2", a.manifest, layout.ConflictFail); !errors.Is(err, layout.ErrCorrupt) {
			t.Fatalf("tag on a torn index.json = %v, want ErrCorrupt", err)
		}
		if rep, err := l.Verify(ctx, layout.VerifyOptions{}); err == nil {
			t.Fatalf("verify of a torn index.json passed: %+v", rep)
		}
		l.Close()
		if got := readFile(t, p); !bytes.Equal(got, full[:n]) {
			t.Fatalf("torn index.json was rewritten to %q", got)
		}
	}
}

func TestLockModes(t *testing.T) {
	dir, _ := goodLayout(t)
	w1 := openRW(t, dir)
	openRW(t, dir) // writers share the gc lock
	_, err := layout.Open(dir, layout.Options{Mode: layout.Exclusive, LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, layout.ErrLocked) || strings.Contains(err.Error(), "--") {
		t.Fatalf("Exclusive open under a writer = %v, want ErrLocked naming no CLI flag (the CLI adds the hint)", err)
	}
	staging := filepath.Join(dir, w1.StagingDir())
	if fi, err := os.Stat(staging); err != nil || !fi.IsDir() {
		t.Fatalf("writer's staging dir %s: %v", staging, err)
	}
	w1.Close()
	if _, err := os.Stat(staging); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staging dir survives Close: %v", err)
	}
	ro, err := open(t, dir, layout.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if ro.StagingDir() != "" {
		t.Fatalf("read-only layout has staging dir %q", ro.StagingDir())
	}
	if err := ro.UpdateIndex(ctx, nil); !errors.Is(err, layout.ErrReadOnly) {
		t.Fatalf("UpdateIndex on a read-only layout = %v, want ErrReadOnly", err)
	}
}

// replaceWith removes dir/name and creates something else there.
func replaceWith(dir, name string, create func(string) error) error {
	p := filepath.Join(dir, name)
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	return create(p)
}

// withTimeout runs fn, failing the test if it does not return in 10s
// (a FIFO opened for reading would block forever).
func withTimeout(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("hangs (FIFO opened?)")
		return nil
	}
}

// listing describes every entry of the layout except oci-pack's lock
// files: names, types, sizes and the bytes of small files.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, ".oci-pack") {
			return nil
		}
		sb.WriteString(rel + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			sb.WriteString(" " + string(b))
		}
		sb.WriteString("\n")
		return nil
	})
	return sb.String()
}
