//go:build unix

package adversarial

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readFIFO makes a FIFO at p and reads it to its end in the background.
// A reader is there from the start (opened non-blocking here, so even a
// writer that refuses a FIFO without one finds it); the bytes are read
// through a second, blocking read end that waits for the writer. The
// returned func gives what was read; if no writer ever came, it releases
// the reader first.
func readFIFO(t *testing.T, p string) func() []byte {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	hold, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
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
		defer hold.Close()
		// A writer that never came: open and close the write end so the
		// blocked reader's open returns and it sees EOF.
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		select {
		case b := <-ch:
			return b
		case <-time.After(30 * time.Second):
			t.Fatalf("the reader of %s never got EOF", p)
			return nil
		}
	}
}

// nullDevice is a character device that discards what is written: one
// made with mknod at p as root, else /dev/null itself (whose identity the
// caller checks).
func nullDevice(t *testing.T, p string) string {
	t.Helper()
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			f.Close()
			return p
		}
		os.Remove(p)
	}
	return "/dev/null"
}

// identity is a file's type, mode, inode and device number, for "was it
// replaced" checks.
func identity(t *testing.T, p string) string {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		return "absent: " + err.Error()
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().String() + " ino " + itoa(st.Ino) + " rdev " + itoa(uint64(st.Rdev))
}

func itoa(n uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func assertBytes(t *testing.T, p string, want []byte) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Errorf("[I13] %s: want a regular file holding the output: %v %v", p, fi, err)
		return
	}
	if got, _ := os.ReadFile(p); !sameOutput(got, want) {
		t.Errorf("[I13] %s holds %d bytes, want the %d of the output", p, len(got), len(want))
	}
}

// sameOutput: got is want, or, where want is nil (a signature, different
// every run), got is not empty.
func sameOutput(got, want []byte) bool {
	if want == nil {
		return len(got) > 0
	}
	return bytes.Equal(got, want)
}

func assertLink(t *testing.T, p, target string) {
	t.Helper()
	if got, err := os.Readlink(p); err != nil || got != target {
		t.Errorf("[I13] the symlink %s was replaced: %q %v", p, got, err)
	}
}

func assertKind(t *testing.T, p string, kind fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode().Type() != kind {
		t.Errorf("[I13] %s is no longer a %v: %v %v", p, kind, fi, err)
	}
}

// noPartials fails if any .partial is left under dir.
func noPartials(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".partial") {
			t.Errorf("[N] %s left behind", p)
		}
		return nil
	})
}
