//go:build unix

package fsx

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// watchdog fails the test if fn has not returned within a minute: an
// output or open that blocks forever is the bug these tests look for.
func watchdog(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s: still blocked after a minute", what)
	}
}

// fifoReader makes a FIFO at p and reads it to EOF in the background;
// the returned func waits for what was read.
func fifoReader(t *testing.T, p string) func() []byte {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 1)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			ch <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		ch <- b
	}()
	return func() []byte {
		select {
		case b := <-ch:
			return b
		case <-time.After(time.Minute):
			t.Fatalf("reader of %s got no EOF", p)
			return nil
		}
	}
}

// charDevice returns a character device that discards what is written:
// a /dev/null made in dir when running as root, else /dev/null itself
// (whose identity and mode the test checks afterwards).
func charDevice(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "null")
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(mkdev(1, 3))); err == nil {
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil { // a nodev mount refuses the open
			f.Close()
			return p
		}
		os.Remove(p)
	}
	return "/dev/null"
}

func mkdev(major, minor uint64) uint64 { return major<<8 | minor }

type statID struct {
	mode fs.FileMode
	ino  uint64
}

func idOf(t *testing.T, p string) statID {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return statID{fi.Mode(), fi.Sys().(*syscall.Stat_t).Ino}
}

// writeOut writes b through CreateOutput(p) and commits.
func writeOut(p string, o OutputOptions, b []byte) (string, error) {
	return WriteOutput(p, o, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// TestOutputRule runs the I13 rule against every kind of thing that can be
// at an output path: what is replaced, streamed to or refused, and that
// nothing else is ever replaced and no .partial is left.
func TestOutputRule(t *testing.T) {
	payload := []byte("archive bytes\n")
	type check func(t *testing.T, dir, p string, err error)
	replaced := func(t *testing.T, file string) {
		t.Helper()
		if got, _ := os.ReadFile(file); !bytes.Equal(got, payload) {
			t.Errorf("%s holds %q, want the output", file, got)
		}
	}
	refused := func(what string) check {
		return func(t *testing.T, dir, p string, err error) {
			t.Helper()
			if !errors.Is(err, ErrBadOutput) || !strings.Contains(err.Error(), what) {
				t.Errorf("err = %v, want ErrBadOutput saying %q", err, what)
			}
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir, p string) check
		opts  OutputOptions
	}{
		{"absent", func(t *testing.T, dir, p string) check {
			return func(t *testing.T, dir, p string, err error) { replaced(t, p) }
		}, OutputOptions{}},
		{"regular file keeps its mode", func(t *testing.T, dir, p string) check {
			os.WriteFile(p, []byte("old"), 0o600)
			os.Chmod(p, 0o640)
			return func(t *testing.T, dir, p string, err error) {
				replaced(t, p)
				if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
					t.Errorf("mode %v, want 0640 kept", fi.Mode().Perm())
				}
			}
		}, OutputOptions{}},
		{"symlink to a regular file", func(t *testing.T, dir, p string) check {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			target := filepath.Join(dir, "sub", "real.tar")
			os.WriteFile(target, []byte("old"), 0o644)
			os.Symlink("sub/real.tar", p)
			return func(t *testing.T, dir, p string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if dest, err := os.Readlink(p); err != nil || dest != "sub/real.tar" {
					t.Errorf("the link was replaced: %q %v", dest, err)
				}
				replaced(t, target)
			}
		}, OutputOptions{}},
		{"dangling symlink", func(t *testing.T, dir, p string) check {
			os.Symlink("nowhere/x.tar", p)
			return func(t *testing.T, dir, p string, err error) {
				refused("does not exist")(t, dir, p, err)
				if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
					t.Error("the link's target was created")
				}
			}
		}, OutputOptions{}},
		{"symlink to a directory", func(t *testing.T, dir, p string) check {
			os.Mkdir(filepath.Join(dir, "d"), 0o755)
			os.Symlink("d", p)
			return refused("directory")
		}, OutputOptions{}},
		{"directory", func(t *testing.T, dir, p string) check {
			os.Mkdir(p, 0o755)
			return refused("directory")
		}, OutputOptions{}},
		{"socket", func(t *testing.T, dir, p string) check {
			fd, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			t.Cleanup(func() { syscall.Close(fd) })
			if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: p}); err != nil {
				t.Skip("bind:", err)
			}
			return refused("socket")
		}, OutputOptions{}},
		{"block device", func(t *testing.T, dir, p string) check {
			if err := syscall.Mknod(p, syscall.S_IFBLK|0o600, int(mkdev(7, 200))); err != nil {
				t.Skip("mknod needs root:", err)
			}
			return refused("block device")
		}, OutputOptions{}},
		{"FIFO with a reader", func(t *testing.T, dir, p string) check {
			wait := fifoReader(t, p)
			return func(t *testing.T, dir, p string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got := wait(); !bytes.Equal(got, payload) {
					t.Errorf("reader got %q", got)
				}
			}
		}, OutputOptions{}},
		{"symlink to a FIFO", func(t *testing.T, dir, p string) check {
			wait := fifoReader(t, filepath.Join(dir, "fifo"))
			os.Symlink("fifo", p)
			return func(t *testing.T, dir, p string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got := wait(); !bytes.Equal(got, payload) {
					t.Errorf("reader got %q", got)
				}
			}
		}, OutputOptions{}},
		{"unnamed FIFO without a reader", func(t *testing.T, dir, p string) check {
			syscall.Mkfifo(p, 0o644)
			return refused("no reader")
		}, OutputOptions{Unnamed: true}},
		{"FIFO where only files will do", func(t *testing.T, dir, p string) check {
			syscall.Mkfifo(p, 0o644)
			return refused("volumes are files")
		}, OutputOptions{FilesOnly: true, FilesOnlyWhy: "volumes are files"}},
		{"character device", func(t *testing.T, dir, p string) check {
			dev := charDevice(t, dir)
			os.Symlink(dev, p)
			before := idOf(t, dev)
			return func(t *testing.T, dir, p string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if after := idOf(t, dev); after != before {
					t.Errorf("%s changed: %+v, was %+v", dev, after, before)
				}
				if fi, _ := os.Lstat(p); fi.Mode()&fs.ModeSymlink == 0 {
					t.Error("the link to the device was replaced")
				}
			}
		}, OutputOptions{}},
		{"character device where only files will do", func(t *testing.T, dir, p string) check {
			os.Symlink(charDevice(t, dir), p)
			return refused("character device")
		}, OutputOptions{FilesOnly: true}},
		{"stdout where only files will do", func(t *testing.T, dir, p string) check {
			return refused("standard output")
		}, OutputOptions{FilesOnly: true}},
		{"refused by Check", func(t *testing.T, dir, p string) check {
			return func(t *testing.T, dir, p string, err error) {
				if err == nil || !strings.Contains(err.Error(), "inside the layout") {
					t.Errorf("err = %v", err)
				}
				if _, err := os.Lstat(p); err == nil {
					t.Error("created despite Check")
				}
			}
		}, OutputOptions{Check: func(string) error { return errors.New("inside the layout") }}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "out.tar")
			if strings.HasPrefix(c.name, "stdout") {
				p = "-"
			}
			chk := c.setup(t, dir, p)
			var err error
			watchdog(t, c.name, func() { _, err = writeOut(p, c.opts, payload) })
			chk(t, dir, p, err)
			filepath.WalkDir(dir, func(q string, d fs.DirEntry, _ error) error {
				if strings.HasSuffix(q, PartialSuffix) {
					t.Errorf("%s left behind", q)
				}
				return nil
			})
		})
	}
}

// A name free when the output was created and taken before the commit
// is not replaced (class 3), and a regular file that became something
// else meanwhile is not replaced either.
func TestOutputCommitRaces(t *testing.T) {
	t.Run("appeared", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tar")
		out, err := CreateOutput(p, OutputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out.Write([]byte("mine"))
		os.WriteFile(p, []byte("theirs"), 0o644)
		if err := out.Commit(); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("commit: %v, want ErrExist", err)
		}
		if b, _ := os.ReadFile(p); string(b) != "theirs" {
			t.Errorf("replaced: %q", b)
		}
		if _, err := os.Lstat(p + PartialSuffix); err == nil {
			t.Error(".partial left")
		}
	})
	t.Run("became a FIFO", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tar")
		os.WriteFile(p, []byte("old"), 0o644)
		out, err := CreateOutput(p, OutputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		syscall.Mkfifo(p, 0o644)
		if err := out.Commit(); !errors.Is(err, ErrBadOutput) {
			t.Fatalf("commit: %v, want ErrBadOutput", err)
		}
		if fi, _ := os.Lstat(p); fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Error("the FIFO was replaced")
		}
	})
	t.Run("stale partial", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tar")
		os.WriteFile(p+PartialSuffix, []byte("stale bytes of a crashed run"), 0o644)
		if _, err := writeOut(p, OutputOptions{}, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != "new" {
			t.Errorf("got %q", b)
		}
	})
	t.Run("planted partial symlink", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "x.tar")
		victim := filepath.Join(dir, "victim")
		os.WriteFile(victim, []byte("keep"), 0o644)
		os.Symlink(victim, p+PartialSuffix)
		if _, err := writeOut(p, OutputOptions{}, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "keep" {
			t.Errorf("written through the planted link: %q", b)
		}
	})
}

func TestOutputAbort(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.tar")
	os.WriteFile(p, []byte("old"), 0o644)
	out, err := CreateOutput(p, OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out.Write([]byte("half"))
	if err := out.Abort(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("aborted output changed the file: %q", b)
	}
	if _, err := os.Lstat(p + PartialSuffix); err == nil {
		t.Error(".partial left")
	}
	if err := out.Commit(); err == nil {
		t.Error("commit after abort succeeded")
	}
}

// An output in a directory that does not exist is refused naming the
// directory (not the temporary .partial name), and nothing is created.
func TestCreateOutputMissingDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nodir", "x.tar")
	_, err := CreateOutput(p, OutputOptions{})
	if !errors.Is(err, ErrBadOutput) || !strings.Contains(err.Error(), "directory "+filepath.Join(dir, "nodir")+" does not exist") || strings.Contains(err.Error(), PartialSuffix) {
		t.Fatalf("CreateOutput in a missing directory: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nodir")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the missing directory was created: %v", err)
	}
}
