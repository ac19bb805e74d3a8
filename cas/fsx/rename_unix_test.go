//go:build unix

package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// renamers are the native no-replace rename and the portable fallback
// (link-then-unlink, mkdir-then-rename), each held to the same rule.
var renamers = map[string]func(r *os.Root, oldname, newname string) error{
	"native":   RenameNoReplace,
	"fallback": renameByLink,
}

// occupants are everything that can already be at the new name; none of
// them may be replaced, whether the thing renamed is a file or a directory.
var occupants = map[string]func(p string) error{
	"file":            func(p string) error { return os.WriteFile(p, []byte("theirs"), 0o644) },
	"empty directory": func(p string) error { return os.Mkdir(p, 0o755) },
	"symlink":         func(p string) error { return os.Symlink("elsewhere", p) },
	"FIFO":            func(p string) error { return syscall.Mkfifo(p, 0o644) },
}

func TestRenameNoReplace(t *testing.T) {
	for rname, rename := range renamers {
		for _, kind := range []string{"file", "directory"} {
			t.Run(rname+"/"+kind+"/free", func(t *testing.T) {
				dir := t.TempDir()
				r, _ := os.OpenRoot(dir)
				defer r.Close()
				mkSource(t, dir, kind)
				os.Mkdir(filepath.Join(dir, "dst"), 0o755)
				if err := rename(r, "src", "dst/new"); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Lstat(filepath.Join(dir, "src")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("source still there: %v", err)
				}
				if b, err := os.ReadFile(filepath.Join(dir, "dst", "new", "f")); kind == "directory" && string(b) != "content" {
					t.Errorf("renamed directory lost its content: %q %v", b, err)
				}
			})
			for oname, occupy := range occupants {
				t.Run(rname+"/"+kind+"/onto "+oname, func(t *testing.T) {
					dir := t.TempDir()
					r, _ := os.OpenRoot(dir)
					defer r.Close()
					mkSource(t, dir, kind)
					dst := filepath.Join(dir, "dst")
					if err := occupy(dst); err != nil {
						t.Fatal(err)
					}
					before, _ := os.Lstat(dst)
					err := rename(r, "src", "dst")
					if !errors.Is(err, fs.ErrExist) {
						t.Fatalf("err = %v, want fs.ErrExist", err)
					}
					after, _ := os.Lstat(dst)
					if !os.SameFile(before, after) || before.Mode() != after.Mode() {
						t.Errorf("%s replaced", oname)
					}
					if _, err := os.Lstat(filepath.Join(dir, "src")); err != nil {
						t.Errorf("source lost: %v", err)
					}
				})
			}
		}
	}
}

func mkSource(t *testing.T, dir, kind string) {
	t.Helper()
	src := filepath.Join(dir, "src")
	if kind == "directory" {
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		src = filepath.Join(src, "f")
	}
	if err := os.WriteFile(src, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Many renames racing for one name: exactly one wins, every other fails
// with fs.ErrExist, and the winner's bytes are what the name holds.
func TestRenameNoReplaceRace(t *testing.T) {
	for rname, rename := range renamers {
		t.Run(rname, func(t *testing.T) {
			dir := t.TempDir()
			r, _ := os.OpenRoot(dir)
			defer r.Close()
			const n = 16
			for i := range n {
				os.WriteFile(filepath.Join(dir, fmt.Sprint("src", i)), []byte(fmt.Sprint(i)), 0o644)
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = rename(r, fmt.Sprint("src", i), "dst") }()
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("two renames won: %d and %d", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, fs.ErrExist):
					t.Errorf("rename %d: %v", i, err)
				}
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "dst")); winner < 0 || string(b) != fmt.Sprint(winner) {
				t.Errorf("dst holds %q, winner %d", b, winner)
			}
		})
	}
}

// A rename through a symlinked parent that leads out of the root is
// refused: the parents are opened through the root.
func TestRenameNoReplaceConfined(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	r, _ := os.OpenRoot(dir)
	defer r.Close()
	os.WriteFile(filepath.Join(dir, "src"), []byte("x"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "out"))
	if err := RenameNoReplace(r, "src", "out/x"); err == nil {
		t.Fatal("renamed through a symlink leaving the root")
	}
	if _, err := os.Lstat(filepath.Join(outside, "x")); err == nil {
		t.Error("file appeared outside the root")
	}
}
