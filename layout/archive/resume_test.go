package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
)

// resumeArchive exports a layout of about 48 MiB (five blobs, three of
// them larger than a volume) as volumes of 7 MiB with a sidecar, and
// returns the first volume and the archive's size. Checkpoints are taken
// every 512 KiB while the test runs.
func resumeArchive(t *testing.T, o ExportOptions) (string, int64) {
	t.Helper()
	old := resumeEvery
	resumeEvery = 512 << 10
	t.Cleanup(func() { resumeEvery = old })
	src := filepath.Join(t.TempDir(), "src")
	l := openLayout(t, src)
	packTag(t, l, "v1", 11, map[string]int{"a.bin": 12 << 20, "b.bin": 15<<20 + 77, "c.bin": 9 << 20, "d.bin": 11 << 20, "e.txt": 5000}, nil)
	out := filepath.Join(t.TempDir(), "stick", "m.tar")
	os.MkdirAll(filepath.Dir(out), 0o755)
	_, vols, err := ExportFile(ctx, l, out, 7<<20, o)
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, v := range vols {
		size += v.Size
	}
	return vols[0].Path, size
}

// run is one import of first into dir: it counts the archive bytes read
// (the progress is told about every one), collects the notices, and —
// with stopAt > 0 — calls stop once that many bytes were read.
type run struct {
	read   int64
	notes  []string
	stopAt int64
	stop   func()
}

func (r *run) importInto(t *testing.T, ctx context.Context, dir, first string) (*ImportResult, error) {
	t.Helper()
	l := openLayout(t, dir)
	defer l.Close()
	prog := func(string, int64) (func(int64), func(error)) {
		return func(n int64) {
			r.read += n
			if r.stopAt > 0 && r.read >= r.stopAt && r.stop != nil {
				r.stop()
				r.stop = nil
			}
		}, func(error) {}
	}
	return ImportFiles(ctx, l, []string{first}, ImportOptions{Progress: prog, Notify: func(s string) { r.notes = append(r.notes, s) }})
}

func (r *run) noted(s string) bool { return strings.Contains(strings.Join(r.notes, "\n"), s) }

// interrupt imports first into a new layout and cancels at 90%, as
// SIGINT or SIGTERM would; it returns the layout.
func interrupt(t *testing.T, first string, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{stopAt: size * 9 / 10, stop: cancel}
	if _, err := r.importInto(t, c, dir, first); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted import: %v", err)
	}
	return dir
}

func stateFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, layout.ResumeDir, "*"))
	return m
}

// TestResumeAfterCancel: an import cancelled at 90% leaves a state and
// the partial blob it was staging; the re-run resumes, reads a little over
// the last 10% of the archive, and leaves no state behind.
func TestResumeAfterCancel(t *testing.T) {
	first, size := resumeArchive(t, ExportOptions{})
	dir := interrupt(t, first, size)
	if got := stateFiles(t, dir); len(got) != 2 {
		t.Fatalf("resume dir holds %v, want a state and a parked blob", got)
	}
	r := &run{}
	res, err := r.importInto(t, ctx, dir, first)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resumed import read %d of %d bytes (%.1f%%)", r.read, size, 100*float64(r.read)/float64(size))
	if !r.noted("resuming at ") || r.read > size*15/100 {
		t.Errorf("read %d of %d bytes again; notices %q", r.read, size, r.notes)
	}
	if res.Imported != 7 || len(res.Tags) != 1 { // both runs together
		t.Errorf("result %+v", res)
	}
	tagged(t, dir)
	if got := stateFiles(t, dir); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
}

// TestResumeAfterKill simulates kill -9 at 90%: the layout is copied
// while the import is stopped in mid-read (staging, the blob half
// written, the last checkpoint — what a killed process leaves), and the
// copy is imported into again.
func TestResumeAfterKill(t *testing.T) {
	first, size := resumeArchive(t, ExportOptions{})
	dir := filepath.Join(t.TempDir(), "site")
	killed := filepath.Join(t.TempDir(), "killed")
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{stopAt: size * 9 / 10, stop: func() {
		if err := os.CopyFS(killed, os.DirFS(dir)); err != nil {
			t.Error(err)
		}
		cancel()
	}}
	r.importInto(t, c, dir, first)
	staged, _ := filepath.Glob(filepath.Join(killed, layout.ResumeDir, "*.partial"))
	if len(staged) != 1 {
		t.Fatalf("partial blobs in the copy: %v", staged)
	}
	r2 := &run{}
	if _, err := r2.importInto(t, ctx, killed, first); err != nil {
		t.Fatal(err)
	}
	t.Logf("resumed import read %d of %d bytes (%.1f%%)", r2.read, size, 100*float64(r2.read)/float64(size))
	if !r2.noted("resuming at ") || r2.read > size*15/100 {
		t.Errorf("read %d of %d bytes again; notices %q", r2.read, size, r2.notes)
	}
	gl, err := layout.Open(killed, layout.Options{Mode: layout.Exclusive})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gl.GC(ctx, false) // the killed process's staging, as after any kill
	gl.Close()
	if err != nil {
		t.Fatal(err)
	}
	tagged(t, killed)
}

// TestResumeRefused: a state that does not fit is never trusted; the
// import says why and starts over, reading everything.
func TestResumeRefused(t *testing.T) {
	first, size := resumeArchive(t, ExportOptions{})
	full := func(t *testing.T, dir string, why string) {
		t.Helper()
		r := &run{}
		if _, err := r.importInto(t, ctx, dir, first); err != nil {
			t.Fatal(err)
		}
		if r.read != size || r.noted("resuming at") || !r.noted(why) {
			t.Errorf("read %d of %d bytes; notices %q, want one saying %q", r.read, size, r.notes, why)
		}
		tagged(t, dir)
	}
	stateOf := func(t *testing.T, dir string) string {
		t.Helper()
		for _, f := range stateFiles(t, dir) {
			if strings.HasSuffix(f, ".json") {
				return f
			}
		}
		t.Fatal("no state file")
		return ""
	}
	t.Run("corrupt", func(t *testing.T) {
		dir := interrupt(t, first, size)
		os.WriteFile(stateOf(t, dir), []byte(`{"format":"oci-pack-import-resume/v1","offset":`), 0o600)
		full(t, dir, "ignoring the saved state")
	})
	t.Run("symlink", func(t *testing.T) {
		dir := interrupt(t, first, size)
		st := stateOf(t, dir)
		elsewhere := filepath.Join(t.TempDir(), "state.json")
		os.Rename(st, elsewhere)
		os.Symlink(elsewhere, st)
		full(t, dir, "not a regular file")
		if _, err := os.Stat(elsewhere); err != nil {
			t.Errorf("symlink target: %v", err)
		}
	})
	t.Run("other-archive", func(t *testing.T) {
		dir := interrupt(t, first, size)
		other := filepath.Join(t.TempDir(), "other.tar.000")
		os.Link(first, other)
		os.Rename(stateOf(t, dir), filepath.Join(dir, layout.ResumeDir, stateName(mustAbs(t, other))))
		r := &run{}
		l := openLayout(t, dir)
		_, err := ImportFiles(ctx, l, []string{other}, ImportOptions{Notify: func(s string) { r.notes = append(r.notes, s) }})
		l.Close()
		if err == nil || !r.noted("not this archive") {
			t.Errorf("err %v; notices %q", err, r.notes) // other.tar.000 alone is not the whole archive
		}
	})
	t.Run("volume-changed", func(t *testing.T) {
		dir := interrupt(t, first, size)
		fi, _ := os.Stat(first)
		os.Chtimes(strings.TrimSuffix(first, "000")+"002", fi.ModTime(), fi.ModTime().Add(1e9))
		full(t, dir, "changed since")
	})
	t.Run("blob-gone", func(t *testing.T) {
		dir := interrupt(t, first, size)
		blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
		os.Remove(blobs[0])
		full(t, dir, "blob sha256:")
	})
	t.Run("partial-blob-tampered", func(t *testing.T) {
		dir := interrupt(t, first, size)
		parked := strings.TrimSuffix(stateOf(t, dir), ".json") + ".partial"
		flipByte(t, parked, 10)
		r := &run{}
		if _, err := r.importInto(t, ctx, dir, first); err != nil {
			t.Fatal(err)
		}
		if !r.noted("resuming at") || !r.noted("no longer match the checkpoint") {
			t.Errorf("notices %q", r.notes)
		}
		tagged(t, dir)
	})
}

func TestResumeNotForCompressed(t *testing.T) {
	first, size := resumeArchive(t, ExportOptions{Compression: compress.Zstd, Level: 1})
	dir := filepath.Join(t.TempDir(), "site")
	c, cancel := context.WithCancel(ctx)
	r := &run{stopAt: size * 9 / 10, stop: cancel}
	r.importInto(t, c, dir, first)
	cancel()
	if got := stateFiles(t, dir); len(got) != 0 {
		t.Errorf("state saved for a compressed archive: %v", got)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
