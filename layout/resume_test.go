package layout_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/testsuite"
	"github.com/oci-pack/oci-pack/layout"
)

// stagePart opens the partial "p" and stages data[:n] into it from
// checkpoint cp, returning the writer and where it resumed.
func stagePart(t *testing.T, l *layout.Layout, data []byte, cp cas.Checkpoint) (*cas.Writer, int64) {
	t.Helper()
	f, rel, ok, err := l.OpenPartial("p")
	if err != nil || !ok {
		t.Fatalf("OpenPartial: ok=%v err=%v", ok, err)
	}
	w, err := l.Blobs().ResumeWriter(ctx, testsuite.Desc("application/octet-stream", data), f, rel, cp)
	if err != nil {
		t.Fatal(err)
	}
	return w, w.Size()
}

func TestResumeWriterGoesOnAfterCheckpoint(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	w, at := stagePart(t, l, data, cas.Checkpoint{})
	if at != 0 {
		t.Fatalf("fresh partial resumed at %d", at)
	}
	w.Write(data[:300000])
	cp, err := w.Checkpoint()
	if err != nil || cp.Offset != 300000 {
		t.Fatalf("Checkpoint = %+v, %v", cp, err)
	}
	w.Write(data[300000:400000]) // written after the checkpoint: cut off on resume
	if err := w.Suspend(); err != nil {
		t.Fatal(err)
	}

	w, at = stagePart(t, l, data, cp)
	if at != 300000 {
		t.Fatalf("resumed at %d, want 300000", at)
	}
	if _, err := w.Write(data[at:]); err != nil {
		t.Fatal(err)
	}
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatalf("commit after resume: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", res.Descriptor.Digest.Encoded()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("committed blob differs from the data (err %v)", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, layout.ResumeDir, "p")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("partial still there after commit: %v", err)
	}
}

// A partial whose bytes changed after the checkpoint, or a checkpoint that
// lies, is not trusted: staging starts over and the blob still verifies.
func TestResumeWriterDistrustsChangedPartial(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	data := bytes.Repeat([]byte("xyz"), 100000)
	w, _ := stagePart(t, l, data, cas.Checkpoint{})
	w.Write(data[:1000])
	cp, _ := w.Checkpoint()
	w.Suspend()
	part := filepath.Join(dir, layout.ResumeDir, "p")
	f, _ := os.OpenFile(part, os.O_RDWR, 0)
	f.WriteAt([]byte("Q"), 10)
	f.Close()
	for name, c := range map[string]cas.Checkpoint{"changed bytes": cp, "offset past the file": {Offset: 5000, State: cp.State}, "garbage state": {Offset: 1000, State: []byte("junk")}} {
		w, at := stagePart(t, l, data, c)
		if at != 0 {
			t.Fatalf("%s: resumed at %d, want a fresh start", name, at)
		}
		w.Suspend()
	}
	w, _ = stagePart(t, l, data, cp)
	w.Write(data)
	if _, err := w.Commit(ctx); err != nil {
		t.Fatalf("commit after restart: %v", err)
	}
}

func TestOpenPartialRefusesLinksAndSecondHolder(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	blob := put(t, l, "application/octet-stream", []byte("stored blob"))
	blobPath := filepath.Join(dir, "blobs", "sha256", blob.Digest.Encoded())
	os.MkdirAll(filepath.Join(dir, layout.ResumeDir), 0o755)
	part := filepath.Join(dir, layout.ResumeDir, "p")
	for _, plant := range []func() error{
		func() error { return os.Symlink(blobPath, part) },
		func() error { return os.Link(blobPath, part) },
	} {
		if err := plant(); err != nil {
			t.Fatal(err)
		}
		f, _, ok, err := l.OpenPartial("p")
		if err != nil || !ok {
			t.Fatalf("OpenPartial over a planted link: ok=%v err=%v", ok, err)
		}
		f.Truncate(0)
		f.Close()
		if b, _ := os.ReadFile(blobPath); string(b) != "stored blob" {
			t.Fatalf("the blob a planted link named was written through: %q", b)
		}
		os.Remove(part)
	}
	f, _, ok, err := l.OpenPartial("p")
	if err != nil || !ok {
		t.Fatal(err)
	}
	defer f.Close()
	other := openRW(t, dir)
	if g, _, ok, err := other.OpenPartial("p"); ok || err != nil {
		g.Close()
		t.Fatalf("a second holder got the partial: ok=%v err=%v", ok, err)
	}
}

func TestStateFiles(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	if err := l.WriteState("s.json", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := l.ReadState("s.json", 100); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("ReadState = %q, %v", b, err)
	}
	if _, err := l.ReadState("s.json", 3); err == nil {
		t.Fatal("ReadState over its bound succeeded")
	}
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)
	os.Symlink(secret, filepath.Join(dir, layout.ResumeDir, "planted"))
	if b, err := l.ReadState("planted", 100); err == nil {
		t.Fatalf("ReadState followed a planted symlink: %q", b)
	}
	for _, bad := range []string{"../x", "a/b", ".hidden", ""} {
		if err := l.WriteState(bad, nil); !errors.Is(err, layout.ErrInvalidArgument) {
			t.Errorf("WriteState(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
	if err := l.RemoveState("s.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadState("s.json", 100); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadState after RemoveState: %v", err)
	}
}

func TestGCEmptiesResumeDir(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	if err := l.WriteState("s.json", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	g, err := open(t, dir, layout.Exclusive)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.GC(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Staging) != 1 || res.Staging[0] != layout.ResumeDir+"/s.json" {
		t.Fatalf("gc staging = %v, want the state file", res.Staging)
	}
	if _, err := os.Lstat(filepath.Join(dir, layout.ResumeDir, "s.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("state file survived gc: %v", err)
	}
}

// A resume directory planted as a symlink — even to another directory of
// the same layout — is refused, not followed: state and partial blobs land
// only where gc and the next run look.
func TestResumeDirSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	elsewhere := filepath.Join(dir, "blobs", "elsewhere")
	os.MkdirAll(elsewhere, 0o755)
	os.RemoveAll(filepath.Join(dir, layout.ResumeDir))
	if err := os.Symlink(elsewhere, filepath.Join(dir, layout.ResumeDir)); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteState("s.json", []byte(`{}`)); err == nil {
		t.Error("WriteState wrote through a symlinked resume directory")
	}
	if f, _, _, err := l.OpenPartial("p.partial"); err == nil {
		f.Close()
		t.Error("OpenPartial opened through a symlinked resume directory")
	}
	if es, _ := os.ReadDir(elsewhere); len(es) != 0 {
		t.Errorf("files written through the link: %v", es)
	}
}
