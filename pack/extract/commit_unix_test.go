//go:build unix

package extract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// commitArtifact is an artifact with a raw file, a directory layer
// (nested files and a symlink) and a second raw file: every kind of entry
// the commit moves. body varies the bytes, names stay the same.
func commitArtifact(t *testing.T, l *layout.Layout, tag, body string) ocispec.Descriptor {
	t.Helper()
	return putManifest(t, l, tag, nil,
		rawLayer(t, l, "model.bin", "weights "+body),
		tarLayer(t, l, "d", dir("d"), file("d/a.txt", "a "+body), dir("d/sub"), file("d/sub/b.txt", "b "+body), symlink("d/link", "a.txt")),
		rawLayer(t, l, "z.json", `{"v":"`+body+`"}`),
	)
}

// withHook sets testHookBeforeMove for the test.
func withHook(t *testing.T, fn func(rel string)) {
	t.Helper()
	testHookBeforeMove = fn
	t.Cleanup(func() { testHookBeforeMove = nil })
}

// noStaging fails if an extraction's staging directory is left in dir.
func noStaging(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			t.Errorf("staging %s left in %s", e.Name(), dir)
		}
	}
}

// An extraction interrupted during its commit leaves some entries under
// final names; the re-run (without --overwrite) recognises them as its
// own — the same bytes, the same link targets — and finishes the job
// (class 3). Every subset an interruption could leave is tried.
func TestCommitRerunFinishes(t *testing.T) {
	l := newLayout(t)
	desc := commitArtifact(t, l, "v1", "one")
	full := filepath.Join(tempDir(t), "full")
	if _, err := Extract(context.Background(), l, desc, Options{Dir: full}); err != nil {
		t.Fatal(err)
	}
	want := tree(t, full, false)
	// What a kill between moves can leave: each moved entry is whole (a
	// file, a symlink, a whole new directory, or children of a directory
	// that already existed).
	partials := map[string][]string{
		"first file":         {"model.bin"},
		"new directory":      {"model.bin", "d"},
		"all but the last":   {"model.bin", "d"},
		"children of a dir":  {"d/a.txt", "d/link"},
		"nested dir":         {"d/sub"},
		"everything already": {"model.bin", "d", "z.json"},
	}
	for name, placed := range partials {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(tempDir(t), "out")
			os.Mkdir(out, 0o755)
			for _, p := range placed {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(out, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				copyEntry(t, filepath.Join(full, p), filepath.Join(out, p))
			}
			if _, err := Extract(context.Background(), l, desc, Options{Dir: out}); err != nil {
				t.Fatalf("re-run after an interrupted commit: %v", err)
			}
			diffTrees(t, want, tree(t, out, false))
			noStaging(t, out)
		})
	}
}

// copyEntry copies a file, symlink or directory tree (cp -a).
func copyEntry(t *testing.T, from, to string) {
	t.Helper()
	fi, err := os.Lstat(from)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		target, _ := os.Readlink(from)
		err = os.Symlink(target, to)
	case fi.IsDir():
		if err = os.Mkdir(to, fi.Mode().Perm()); err == nil {
			entries, _ := os.ReadDir(from)
			for _, e := range entries {
				copyEntry(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
			}
		}
	default:
		var b []byte
		if b, err = os.ReadFile(from); err == nil {
			err = os.WriteFile(to, b, fi.Mode().Perm())
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// What is at a target and not this extraction's own entry is never
// replaced: different bytes, a different link target, and — even with
// --overwrite — a FIFO, a socket, a device or a directory.
func TestCommitKeepsWhatIsNotOurs(t *testing.T) {
	l := newLayout(t)
	desc := commitArtifact(t, l, "v1", "one")
	cases := []struct {
		name      string
		overwrite bool
		plant     func(p string) error
		says      string
	}{
		{"same size, other bytes", false, func(p string) error { return os.WriteFile(p, []byte("weights two"), 0o644) }, "exists"},
		{"symlink elsewhere", false, func(p string) error { return os.Symlink("a.txt", p) }, "exists and is a symlink"},
		{"FIFO, overwrite", true, func(p string) error { return syscall.Mkfifo(p, 0o644) }, "named pipe"},
		{"directory, overwrite", true, func(p string) error { return os.Mkdir(p, 0o755) }, "directory"},
		{"socket, overwrite", true, func(p string) error {
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			t.Cleanup(func() { syscall.Close(fd) })
			return syscall.Bind(fd, &syscall.SockaddrUnix{Name: p})
		}, "socket"},
		{"char device, overwrite", true, func(p string) error {
			return syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3)
		}, "character device"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(tempDir(t), "out")
			os.Mkdir(out, 0o755)
			target := filepath.Join(out, "model.bin")
			if err := c.plant(target); err != nil {
				t.Skip(err) // mknod needs root
			}
			before, _ := os.Lstat(target)
			_, err := Extract(context.Background(), l, desc, Options{Dir: out, Overwrite: c.overwrite})
			if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want ErrExists saying %q", err, c.says)
			}
			after, err := os.Lstat(target)
			if err != nil || !os.SameFile(before, after) || before.Mode() != after.Mode() {
				t.Errorf("%s was replaced", target)
			}
			noFinalNames(t, out, "model.bin")
			noStaging(t, out)
		})
	}
}

// A name another process creates in Dir between the plan and the rename
// is not replaced: the extraction fails naming it, and what it had
// already moved into place is taken back. The same entry (an identical
// concurrent extraction) is kept, and the extraction succeeds.
func TestCommitRace(t *testing.T) {
	l := newLayout(t)
	desc := commitArtifact(t, l, "v1", "one")
	for _, c := range []struct {
		name, body string
		ok         bool
	}{{"other bytes", "theirs", false}, {"same bytes", `{"v":"one"}`, true}} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(tempDir(t), "out")
			withHook(t, func(rel string) {
				if rel == "z.json" {
					os.WriteFile(filepath.Join(out, rel), []byte(c.body), 0o644)
				}
			})
			_, err := Extract(context.Background(), l, desc, Options{Dir: out})
			if got, _ := os.ReadFile(filepath.Join(out, "z.json")); string(got) != c.body {
				t.Errorf("the other process's z.json was replaced: %q", got)
			}
			noStaging(t, out)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "z.json") || !strings.Contains(err.Error(), "taken back") {
				t.Fatalf("err = %v, want ErrExists naming z.json, saying the rest was taken back", err)
			}
			noFinalNames(t, out, "z.json") // theirs, and nothing of ours
		})
	}
}

// Interrupted (the context cancelled) in the middle of its moves, an
// extraction takes back what it had moved: nothing under a final name.
func TestCommitCancelRollsBack(t *testing.T) {
	l := newLayout(t)
	desc := commitArtifact(t, l, "v1", "one")
	out := filepath.Join(tempDir(t), "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	moves := 0
	withHook(t, func(string) {
		if moves++; moves == 2 {
			cancel()
		}
	})
	_, err := Extract(ctx, l, desc, Options{Dir: out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	noFinalNames(t, out, "model.bin", "d", "z.json")
	noStaging(t, out)
}

// Two extractions of different content into one directory at once: each
// either succeeds with every file its own or fails with ErrExists; never
// both succeed, and no successful one has a file of the other's.
func TestConcurrentExtractions(t *testing.T) {
	l := newLayout(t)
	descs := []ocispec.Descriptor{commitArtifact(t, l, "a", "A"), commitArtifact(t, l, "b", "B")}
	refs := make([]map[string]string, 2)
	for i, d := range descs {
		dir := filepath.Join(tempDir(t), "ref")
		if _, err := Extract(context.Background(), l, d, Options{Dir: dir}); err != nil {
			t.Fatal(err)
		}
		refs[i] = tree(t, dir, false)
	}
	var start sync.WaitGroup
	for round := range 20 {
		out := filepath.Join(tempDir(t), fmt.Sprint("out", round))
		os.Mkdir(out, 0o755)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start.Add(1)
		for i, d := range descs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				_, errs[i] = Extract(context.Background(), l, d, Options{Dir: out})
			}()
		}
		start.Done()
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
				diffTrees(t, refs[i], tree(t, out, false))
			case !errors.Is(err, ErrExists):
				t.Errorf("round %d, extraction %d: %v", round, i, err)
			}
		}
		if ok > 1 {
			t.Fatalf("round %d: both extractions succeeded into one directory", round)
		}
		noStaging(t, out)
	}
}
