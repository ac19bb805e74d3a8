//go:build unix

package archive

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/opencontainers/go-digest"
)

// interruptedExport runs export into out until about 7 MiB were written
// and cancels it, leaving finished volumes and the resume state.
func interruptedExport(t *testing.T, export func(context.Context, string, ExportOptions) (*ExportResult, []Volume, error), out string) {
	t.Helper()
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	var notes []string
	if _, _, err := export(c, out, stopAt(7<<20, cancel, &notes, 0)); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestExportResumeKeptOutputRule: the volumes a resumed export keeps are
// renamed to their final names by the same output rule as every other
// volume (RELIABILITY I13): a FIFO or a directory found at a kept
// volume's name is refused and left as it is, a symlink to a regular
// file is followed (its target replaced, the link kept), a file created
// there meanwhile is not replaced without a check.
func TestExportResumeKeptOutputRule(t *testing.T) {
	export := exportSetup(t)
	clean := filepath.Join(t.TempDir(), "x.tar")
	if _, _, err := export(ctx, clean, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, p string) func(t *testing.T, err error)
	}{
		{"FIFO", func(t *testing.T, p string) func(*testing.T, error) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
			return func(t *testing.T, err error) {
				if !errors.Is(err, fsx.ErrBadOutput) {
					t.Errorf("a FIFO at a kept volume's name: %v, want ErrBadOutput", err)
				}
				assertMode(t, p, fs.ModeNamedPipe)
			}
		}},
		{"directory", func(t *testing.T, p string) func(*testing.T, error) {
			os.Mkdir(p, 0o755)
			return func(t *testing.T, err error) {
				if !errors.Is(err, fsx.ErrBadOutput) {
					t.Errorf("a directory at a kept volume's name: %v, want ErrBadOutput", err)
				}
				assertMode(t, p, fs.ModeDir)
			}
		}},
		{"symlink to a file", func(t *testing.T, p string) func(*testing.T, error) {
			target := filepath.Join(t.TempDir(), "target")
			os.WriteFile(target, []byte("old"), 0o644)
			os.Symlink(target, p)
			return func(t *testing.T, err error) {
				if err != nil {
					t.Fatal(err)
				}
				assertMode(t, p, fs.ModeSymlink)
				if string(readFile(t, target)) != string(readFile(t, clean+".000")) {
					t.Error("the symlink's target does not hold volume 000")
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.tar")
			interruptedExport(t, export, out)
			check := c.plant(t, out+".000")
			var notes []string
			_, _, err := export(ctx, out, stopAt(0, nil, &notes, 0))
			t.Logf("notes %q", notes)
			check(t, err)
		})
	}
}

func assertMode(t *testing.T, p string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode().Type() != want {
		t.Errorf("%s is %v (%v), want %v left as it was", p, fi.Mode(), err, want)
	}
}

// TestExportResumeStateLies: the resume state and a kept volume were
// rewritten together (the state records the digest of the changed bytes):
// the digest check passes, but the bytes are not what this export writes.
// The export must never publish them: the kept bytes are compared with
// the stream the export produces, and the export fails (nothing committed,
// the kept volumes and the state removed) or rewrites them.
func TestExportResumeStateLies(t *testing.T) {
	export := exportSetup(t)
	clean := filepath.Join(t.TempDir(), "x.tar")
	if _, _, err := export(ctx, clean, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.tar")
	interruptedExport(t, export, out)
	flipByte(t, out+".001.partial", 1000)
	var st exportState
	if err := json.Unmarshal(readFile(t, out+exportStateSuffix), &st); err != nil {
		t.Fatal(err)
	}
	st.Volumes[1].Digest = digest.FromBytes(readFile(t, out+".001.partial"))
	b, _ := json.Marshal(st)
	os.WriteFile(out+exportStateSuffix, b, 0o644)

	var notes []string
	_, _, err := export(ctx, out, stopAt(0, nil, &notes, 0))
	if err == nil {
		sameSet(t, out, clean) // rewritten: fine
		return
	}
	t.Logf("refused: %v", err)
	if _, serr := os.Stat(out + ".001"); serr == nil {
		t.Error("a volume was published although the export failed")
	}
	if _, _, err := export(ctx, out, stopAt(0, nil, &notes, 0)); err != nil {
		t.Fatalf("the re-run after the refusal: %v", err)
	}
	sameSet(t, out, clean)
}
