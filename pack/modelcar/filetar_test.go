package modelcar

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
)

// reference writes the layer the slow way — archive/tar writing every
// entry and its data and closing the archive — for FileTar to match.
func reference(t *testing.T, dir, title string, data []byte, mode int64, mtime time.Time) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	name := dir + "/" + title
	for i := range len(name) {
		if name[i] == '/' {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name[:i] + "/", Mode: 0o755, ModTime: mtime}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: mode, ModTime: mtime}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func assemble(t *testing.T, ft *FileTar, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Write(ft.Prefix)
	buf.Write(data)
	if err := ft.WriteSuffix(&buf); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != ft.TarSize() {
		t.Fatalf("TarSize %d, assembled %d bytes", ft.TarSize(), buf.Len())
	}
	return buf.Bytes()
}

// TestFileTarMatchesArchiveTar: prefix + bytes + suffix is byte for byte
// what archive/tar writes for the same entries, for sizes around block
// boundaries, nested and long (PAX) and non-ASCII names, executables, and
// a set mtime; and the tar reads back as the parents then the file.
func TestFileTarMatchesArchiveTar(t *testing.T) {
	long := strings.Repeat("long-name-", 12) + "x.safetensors" // > 100 bytes: ustar prefix or PAX
	longer := strings.Repeat("d/", 80) + strings.Repeat("y", 120)
	cases := []struct {
		dir, title string
		size       int
		exec       bool
		mtime      time.Time
	}{
		{"models", "config.json", 0, false, time.Time{}},
		{"models", "a", 1, false, time.Time{}},
		{"models", "a", 511, false, time.Time{}},
		{"models", "a", 512, false, time.Time{}},
		{"models", "a", 513, false, time.Time{}},
		{"models", "sub/deeper/w.bin", 4096 + 7, false, time.Time{}},
		{"models", "run.sh", 17, true, time.Time{}},
		{"data/llm", "tokenizer.json", 100, false, time.Unix(1700000000, 0)},
		{"models", long, 10, false, time.Time{}},
		{"models", longer, 10, false, time.Time{}},
		{"models", "模型/权重.safetensors", 33, false, time.Time{}},
	}
	for _, c := range cases {
		data := bytes.Repeat([]byte{0xab}, c.size)
		mode := int64(0o644)
		fmode := int64(0o600) // the file's own mode: normalised away
		if c.exec {
			mode, fmode = 0o755, 0o700
		}
		ft, err := NewFileTar(c.dir, c.title, int64(c.size), fsMode(fmode), c.mtime)
		if err != nil {
			t.Fatalf("%s/%s: %v", c.dir, c.title, err)
		}
		mtime := c.mtime
		if mtime.IsZero() {
			mtime = time.Unix(0, 0)
		}
		got, want := assemble(t, ft, data), reference(t, c.dir, c.title, data, mode, mtime)
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s (%d bytes): FileTar gives %d bytes, archive/tar %d, or they differ", c.dir, c.title, c.size, len(got), len(want))
		}
		tr := tar.NewReader(bytes.NewReader(got))
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(mtime) {
				t.Errorf("%s: header not normalised: %+v", h.Name, h)
			}
			names = append(names, h.Name)
		}
		if last := names[len(names)-1]; last != ft.Name || ft.Name != c.dir+"/"+c.title {
			t.Errorf("last entry %q, FileTar.Name %q, want %q", last, ft.Name, c.dir+"/"+c.title)
		}
	}
}

// TestFileTarHugeFile: an 8 GiB file needs a PAX size record; the header
// matches archive/tar's and the suffix is padding plus two zero blocks.
func TestFileTarHugeFile(t *testing.T) {
	size := int64(8<<30 + 3)
	ft, err := NewFileTar("models", "big.gguf", size, 0o644, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "models/", Mode: 0o755, ModTime: time.Unix(0, 0)})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "models/big.gguf", Size: size, Mode: 0o644, ModTime: time.Unix(0, 0)})
	if !bytes.Equal(ft.Prefix, buf.Bytes()) {
		t.Fatal("prefix differs from archive/tar's headers")
	}
	if !bytes.Contains(ft.Prefix, []byte("size=8589934595")) {
		t.Error("no PAX size record for an 8 GiB file")
	}
	if ft.Suffix != 509+1024 {
		t.Errorf("suffix %d, want 509+1024", ft.Suffix)
	}
}

func TestFileTarRefuses(t *testing.T) {
	for _, c := range []struct{ dir, title string }{
		{"models", ""}, {"models", "/abs"}, {"models", "../x"}, {"models", "a/../b"}, {"models", "a//b"},
		{"models", "a\\b"}, {"models", "bad\xff"}, {"..", "x"}, {"", "x"}, {"a/./b", "x"},
	} {
		if _, err := NewFileTar(c.dir, c.title, 1, 0o644, time.Time{}); !errors.Is(err, layout.ErrInvalidArgument) {
			t.Errorf("NewFileTar(%q, %q): %v, want ErrInvalidArgument", c.dir, c.title, err)
		}
	}
	ft, err := NewFileTar("/models/", "x", 1, 0o644, time.Time{})
	if err != nil || ft.Name != "models/x" {
		t.Errorf("mount dir /models/: %v, name %q", err, ft.Name)
	}
}

func TestParsePlatforms(t *testing.T) {
	got, err := ParsePlatforms(nil)
	if err != nil || len(got) != 2 || PlatformString(got[0]) != "linux/amd64" || PlatformString(got[1]) != "linux/arm64" {
		t.Fatalf("default: %v %v", got, err)
	}
	got, err = ParsePlatforms([]string{"linux/amd64,linux/arm/v7", "linux/s390x"})
	if err != nil || len(got) != 3 || got[1].Variant != "v7" || PlatformString(got[2]) != "linux/s390x" {
		t.Fatalf("list: %v %v", got, err)
	}
	for _, bad := range []string{"linux", "linux/", "Linux/amd64", "linux/amd64/v1/x", "linux/amd64,linux/amd64", "linux/am d64"} {
		if _, err := ParsePlatforms([]string{bad}); !errors.Is(err, layout.ErrInvalidArgument) {
			t.Errorf("ParsePlatforms(%q): %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func fsMode(m int64) fs.FileMode { return fs.FileMode(m) }
