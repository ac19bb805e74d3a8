package cas_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/cas/testsuite"
)

// openStore opens a Store on dir with a fresh staging directory, as a
// layout writer would.
func openStore(t *testing.T, dir string) *cas.Store {
	t.Helper()
	staging, err := os.MkdirTemp(filepath.Join(mkdirAll(t, dir, ".oci-pack", "tmp")), "test-")
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(dir, staging)
	s, err := cas.OpenWith(dir, cas.Options{Staging: filepath.ToSlash(rel), Records: testsuite.Records})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mkdirAll(t *testing.T, parts ...string) string {
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConformance runs the shared suite against *cas.Store. Its staging
// files live in .oci-pack/tmp/test-*, so the suite's "nothing left behind"
// checks cover them.
func TestConformance(t *testing.T) {
	testsuite.Run(t, openStore)
}

func TestParseDigest(t *testing.T) {
	good := digest.FromString("x")
	if d, err := cas.ParseDigest(good.String()); err != nil || d != good {
		t.Fatalf("ParseDigest(%s) = %q, %v", good, d, err)
	}
	for _, bad := range testsuite.InvalidDigests() {
		_, err := cas.ParseDigest(bad)
		if !errors.Is(err, cas.ErrInvalidDigest) {
			t.Errorf("ParseDigest(%q) = %v, want ErrInvalidDigest", bad, err)
			continue
		}
		// The message quotes the input, so control characters show escaped.
		if bad != "" && !strings.Contains(err.Error(), `"`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseDigest(%q) error %q does not quote the input", bad, err)
		}
		if _, err := cas.BlobPath(digest.Digest(bad)); !errors.Is(err, cas.ErrInvalidDigest) {
			t.Errorf("BlobPath(%q) = %v, want ErrInvalidDigest", bad, err)
		}
	}
	_, err := cas.ParseDigest("md5:" + good.Encoded()[:32])
	if err == nil || !strings.Contains(err.Error(), "unsupported digest algorithm") {
		t.Errorf("md5 digest error %v, want it to say unsupported digest algorithm", err)
	}
	if p, err := cas.BlobPath(good); err != nil || p != "blobs/sha256/"+good.Encoded() {
		t.Errorf("BlobPath(%s) = %q, %v", good, p, err)
	}
}

func TestReadOnlyStoreRefusesWrites(t *testing.T) {
	s, err := cas.Open(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Writer(context.Background(), ocispec.Descriptor{}); err == nil {
		t.Fatal("Writer on a read-only store succeeded")
	}
}

// TestOpenRegular covers Open and OpenRegular directly: a regular file
// opens, a symlink or FIFO does not, and a FIFO does not block.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	b := testsuite.Content("open", 1000)
	res, err := s.Put(context.Background(), bytes.NewReader(b), ocispec.Descriptor{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(context.Background(), res.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, b) {
		t.Fatal("Open read back different bytes")
	}
	if _, err := s.Open(context.Background(), digest.FromString("absent")); !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Open of an absent blob = %v, want ErrNotFound", err)
	}
	if err := os.Symlink("index.json", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "index.json"), []byte("{}"), 0o644)
	if _, err := fsx.OpenRegular(s.Root(), "link"); !errors.Is(err, cas.ErrNotRegular) || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("OpenRegular(symlink) = %v, want ErrNotRegular naming a symlink", err)
	}
	f, err = fsx.OpenRegular(s.Root(), "index.json")
	if err != nil {
		t.Fatalf("OpenRegular(regular file) = %v", err)
	}
	f.Close()
}

// TestVerifyReader checks the reader Open's verification is built on.
func TestVerifyReader(t *testing.T) {
	b := testsuite.Content("vr", 5000)
	want := testsuite.Desc("", b)
	read := func(r io.Reader, d ocispec.Descriptor) error {
		_, err := io.ReadAll(cas.NewVerifyReader(r, d))
		return err
	}
	if err := read(bytes.NewReader(b), want); err != nil {
		t.Fatalf("exact bytes: %v", err)
	}
	if err := read(bytes.NewReader(append(b, 'x')), want); !errors.Is(err, cas.ErrSizeMismatch) {
		t.Fatalf("trailing byte: %v, want ErrSizeMismatch", err)
	}
	if err := read(bytes.NewReader(b[1:]), want); !errors.Is(err, cas.ErrSizeMismatch) {
		t.Fatalf("short: %v, want ErrSizeMismatch", err)
	}
	other := append([]byte{b[0] ^ 1}, b[1:]...)
	if err := read(bytes.NewReader(other), want); !errors.Is(err, cas.ErrDigestMismatch) || !strings.Contains(err.Error(), want.Digest.String()) {
		t.Fatalf("flipped byte: %v, want ErrDigestMismatch naming %s", err, want.Digest)
	}
	neg := want
	neg.Size = -1
	if err := read(bytes.NewReader(b), neg); !errors.Is(err, cas.ErrSizeMismatch) {
		t.Fatalf("negative size: %v, want ErrSizeMismatch", err)
	}
	bad := want
	bad.Digest = "sha256:../../x"
	if err := read(bytes.NewReader(b), bad); !errors.Is(err, cas.ErrInvalidDigest) {
		t.Fatalf("invalid digest: %v, want ErrInvalidDigest", err)
	}
	// A reader that never ends is cut off one byte past the promise.
	if err := read(zeros{}, ocispec.Descriptor{Digest: digest.FromBytes(make([]byte, 10)), Size: 10}); !errors.Is(err, cas.ErrSizeMismatch) {
		t.Fatalf("endless reader: %v, want ErrSizeMismatch", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestFileKind(t *testing.T) {
	for mode, want := range map[os.FileMode]string{
		0o644:                             "regular file",
		os.ModeSymlink:                    "symlink",
		os.ModeDir:                        "directory",
		os.ModeNamedPipe:                  "named pipe",
		os.ModeSocket:                     "socket",
		os.ModeDevice | os.ModeCharDevice: "character device",
		os.ModeDevice:                     "block device",
	} {
		if got := fsx.FileKind(mode); got != want {
			t.Errorf("FileKind(%v) = %q, want %q", mode, got, want)
		}
	}
}
