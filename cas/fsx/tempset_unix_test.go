//go:build unix

package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// A forced exit removes the .partial of every open output, and only those.
func TestRemovePartials(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.tar")
	done := filepath.Join(dir, "done.tar")
	a, err := CreateOutput(open, OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeOut(done, OutputOptions{}, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	RemovePartials()
	if _, err := os.Lstat(open + PartialSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left: %v", open+PartialSuffix, err)
	}
	if b, _ := os.ReadFile(done); string(b) != "kept" {
		t.Errorf("a committed output was touched: %q", b)
	}
	a.Abort()
}

// A TempSet's RemoveAll removes what was created and refuses what comes
// after, so nothing made concurrently with a forced exit is left.
func TestTempSet(t *testing.T) {
	var s TempSet
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := s.Create(a, func() error { return os.Mkdir(a, 0o700) }); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(dir, "b")
	s.Create(b, func() error { return os.Mkdir(b, 0o700) })
	s.Done(b) // b was renamed into place: not the set's to remove
	s.RemoveAll(func(p string) { os.RemoveAll(p) })
	if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left", a)
	}
	if _, err := os.Lstat(b); err != nil {
		t.Errorf("%s removed: %v", b, err)
	}
	c := filepath.Join(dir, "c")
	if err := s.Create(c, func() error { return os.Mkdir(c, 0o700) }); !errors.Is(err, ErrExiting) {
		t.Errorf("Create after RemoveAll: %v", err)
	}
	if _, err := os.Lstat(c); err == nil {
		t.Error("created after RemoveAll")
	}
}
