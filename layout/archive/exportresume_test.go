package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportSetup packs a layout of about 10 MiB and returns it open.
func exportSetup(t *testing.T) func(ctx context.Context, out string, o ExportOptions) (*ExportResult, []Volume, error) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	l := openLayout(t, src)
	t.Cleanup(func() { l.Close() })
	packTag(t, l, "v1", 5, map[string]int{"a.bin": 3 << 20, "b.bin": 4<<20 + 99, "c.bin": 2 << 20, "d.txt": 700}, nil)
	return func(ctx context.Context, out string, o ExportOptions) (*ExportResult, []Volume, error) {
		return ExportFile(ctx, l, out, 1<<20, o)
	}
}

// stopAt is export options that call stop once n bytes of tar were
// written, and collect notices.
func stopAt(n int64, stop func(), notes *[]string, parity int) ExportOptions {
	var done int64
	return ExportOptions{Parity: parity, Notify: func(s string) { *notes = append(*notes, s) },
		Progress: func(string, int64) (func(int64), func(error)) {
			return func(k int64) {
				if done += k; n > 0 && done >= n && stop != nil {
					stop()
					stop = nil
				}
			}, func(error) {}
		}}
}

// sameSet compares the files of two exports by name: data, parity and sidecar.
func sameSet(t *testing.T, got, want string) {
	t.Helper()
	wf, _ := filepath.Glob(want + ".*")
	gf, _ := filepath.Glob(got + ".*")
	if len(wf) != len(gf) {
		t.Fatalf("%d files, want %d: %v", len(gf), len(wf), gf)
	}
	for _, w := range wf {
		g := got + strings.TrimPrefix(w, want)
		if string(readFile(t, g)) != string(readFile(t, w)) {
			t.Errorf("%s differs from a clean export's", filepath.Base(g))
		}
	}
}

func TestExportResume(t *testing.T) {
	export := exportSetup(t)
	for _, parity := range []int{0, 2} {
		clean := filepath.Join(t.TempDir(), "clean.tar")
		if _, _, err := export(ctx, clean, ExportOptions{Parity: parity}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "clean.tar")
		c, cancel := context.WithCancel(ctx)
		var notes []string
		_, _, err := export(c, out, stopAt(7<<20, cancel, &notes, parity))
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("parity %d: interrupted export: %v", parity, err)
		}
		kept, _ := filepath.Glob(out + ".0*.partial")
		if len(kept) < 5 {
			t.Fatalf("kept %v", kept)
		}
		if _, err := os.Stat(out + exportStateSuffix); err != nil {
			t.Fatalf("no state: %v", err)
		}
		if final, _ := filepath.Glob(out + ".0??"); len(final) > 0 {
			t.Errorf("final names after an interrupted export: %v", final)
		}
		notes = nil
		res, _, err := export(ctx, out, stopAt(0, nil, &notes, parity))
		if err != nil {
			t.Fatal(err)
		}
		if res.Kept != len(kept) || !strings.Contains(strings.Join(notes, "\n"), "resuming an interrupted export") {
			t.Errorf("parity %d: kept %d of %d; notices %q", parity, res.Kept, len(kept), notes)
		}
		sameSet(t, out, clean)
		if left, _ := filepath.Glob(out + "*.partial"); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
		if _, err := os.Stat(out + exportStateSuffix); !os.IsNotExist(err) {
			t.Errorf("state left behind: %v", err)
		}
	}
}

// TestExportResumeRefused: kept volumes that changed, a state for another
// export, a state planted as a symlink: not trusted, the notice says why,
// and the result is what a clean export writes.
func TestExportResumeRefused(t *testing.T) {
	export := exportSetup(t)
	clean := filepath.Join(t.TempDir(), "x.tar")
	if _, _, err := export(ctx, clean, ExportOptions{Parity: 1}); err != nil {
		t.Fatal(err)
	}
	interrupted := func(t *testing.T, parity int) string {
		out := filepath.Join(t.TempDir(), "x.tar")
		c, cancel := context.WithCancel(ctx)
		defer cancel()
		var notes []string
		if _, _, err := export(c, out, stopAt(7<<20, cancel, &notes, parity)); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		return out
	}
	rerun := func(t *testing.T, out string, wantKept int, why string) {
		t.Helper()
		var notes []string
		res, _, err := export(ctx, out, stopAt(0, nil, &notes, 1))
		if err != nil {
			t.Fatal(err)
		}
		if res.Kept != wantKept || !strings.Contains(strings.Join(notes, "\n"), why) {
			t.Errorf("kept %d, want %d; notices %q, want one saying %q", res.Kept, wantKept, notes, why)
		}
		sameSet(t, out, clean)
	}
	t.Run("volume-changed", func(t *testing.T) {
		out := interrupted(t, 1)
		flipByte(t, out+".002.partial", 1000)
		rerun(t, out, 2, "x.tar.002.partial is sha256:")
	})
	t.Run("volume-gone", func(t *testing.T) {
		out := interrupted(t, 1)
		os.Remove(out + ".001.partial")
		rerun(t, out, 1, "no such file")
	})
	t.Run("other-export", func(t *testing.T) {
		out := interrupted(t, 2) // parity differs
		rerun(t, out, 0, "another export")
	})
	t.Run("corrupt", func(t *testing.T) {
		out := interrupted(t, 1)
		os.WriteFile(out+exportStateSuffix, []byte(`{"format":`), 0o644)
		rerun(t, out, 0, "not kept")
	})
	t.Run("symlink", func(t *testing.T) {
		out := interrupted(t, 1)
		elsewhere := filepath.Join(t.TempDir(), "state.json")
		os.Rename(out+exportStateSuffix, elsewhere)
		os.Symlink(elsewhere, out+exportStateSuffix)
		rerun(t, out, 0, "not a regular file")
		if _, err := os.Stat(elsewhere); err != nil {
			t.Errorf("symlink target: %v", err)
		}
	})
}

// TestExportResumeAfterKill: what a killed export leaves (the volume in
// progress and the parity volumes as .partial, copied mid-export) is
// picked up: finished volumes kept, the rest rewritten.
func TestExportResumeAfterKill(t *testing.T) {
	export := exportSetup(t)
	clean := filepath.Join(t.TempDir(), "k.tar")
	if _, _, err := export(ctx, clean, ExportOptions{Parity: 2}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "k.tar")
	killed := filepath.Join(t.TempDir(), "killed")
	c, cancel := context.WithCancel(ctx)
	var notes []string
	export(c, out, stopAt(6<<20, func() {
		if err := os.CopyFS(killed, os.DirFS(dir)); err != nil {
			t.Error(err)
		}
		cancel()
	}, &notes, 2))
	cancel()
	again := filepath.Join(killed, "k.tar")
	res, _, err := export(ctx, again, stopAt(0, nil, &notes, 2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept < 4 {
		t.Errorf("kept %d", res.Kept)
	}
	sameSet(t, again, clean)
}
