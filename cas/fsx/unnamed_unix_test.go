//go:build unix

package fsx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Every kind of thing that can sit at a name the tool finds by itself:
// only a regular file (directly or through a symlink) is opened, and
// nothing blocks (I15).
func TestOpenUnnamed(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	os.WriteFile(reg, []byte("data"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o644)
	cases := map[string]struct {
		path string
		ok   bool
		says string
	}{
		"regular file":         {reg, true, ""},
		"symlink to a file":    {link(t, dir, "l-reg", "reg"), true, ""},
		"FIFO":                 {fifo, false, "named pipe"},
		"symlink to a FIFO":    {link(t, dir, "l-fifo", "fifo"), false, "named pipe"},
		"symlink to /dev/zero": {link(t, dir, "l-zero", "/dev/zero"), false, "character device"},
		"directory":            {dir, false, "directory"},
		"dangling symlink":     {link(t, dir, "l-none", "none"), false, "no such file"},
		"symlink to a dir":     {link(t, dir, "l-dir", "."), false, "directory"},
		"missing":              {filepath.Join(dir, "absent"), false, "no such file"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var f *os.File
			var err error
			watchdog(t, name, func() { f, _, err = OpenUnnamed(c.path) })
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				return
			}
			if f != nil {
				f.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Errorf("err = %v, want one saying %q", err, c.says)
			}
			if c.says != "no such file" && !errors.Is(err, ErrNotRegular) {
				t.Errorf("err = %v, want ErrNotRegular", err)
			}
		})
	}
}

func link(t *testing.T, dir, name, target string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// A read bounded by a declared size ends there, and says so when the
// source goes on — even when it never ends (/dev/zero).
func TestLimitReader(t *testing.T) {
	for name, c := range map[string]struct {
		src  io.Reader
		n    int64
		want string
		err  error
	}{
		"exact":       {strings.NewReader("abcd"), 4, "abcd", nil},
		"shorter":     {strings.NewReader("ab"), 4, "ab", nil},
		"longer":      {strings.NewReader("abcdef"), 4, "abcd", ErrTooLong},
		"zero, empty": {strings.NewReader(""), 0, "", nil},
		"zero, more":  {strings.NewReader("x"), 0, "", ErrTooLong},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := io.ReadAll(LimitReader(c.src, c.n, "src"))
			if string(got) != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Errorf("got %q, %v; want %q, %v", got, err, c.want, c.err)
			}
		})
	}
	t.Run("/dev/zero", func(t *testing.T) {
		f, err := os.Open("/dev/zero")
		if err != nil {
			t.Skip(err)
		}
		defer f.Close()
		var n int64
		watchdog(t, "read /dev/zero bounded", func() { n, err = io.Copy(io.Discard, LimitReader(f, 1<<20, "/dev/zero")) })
		if n != 1<<20 || !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), "/dev/zero") {
			t.Errorf("read %d bytes, %v", n, err)
		}
	})
}

func TestIsEnvironment(t *testing.T) {
	env := []error{syscall.EACCES, syscall.EPERM, syscall.EMFILE, syscall.ENFILE, syscall.EIO, syscall.ENOSPC,
		syscall.EDQUOT, syscall.EROFS, syscall.EFBIG, os.ErrPermission,
		&os.PathError{Op: "open", Path: "index.json", Err: syscall.EACCES}}
	for _, err := range env {
		if !IsEnvironment(err) || !IsEnvironment(errors.Join(errors.New("corrupt"), err)) {
			t.Errorf("IsEnvironment(%v) = false", err)
		}
	}
	for _, err := range []error{nil, ErrNotRegular, io.ErrUnexpectedEOF, syscall.ENOENT, syscall.ELOOP, errors.New("digest mismatch")} {
		if IsEnvironment(err) {
			t.Errorf("IsEnvironment(%v) = true", err)
		}
	}
}
