package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
)

// exportParity exports a layout of a few MiB as volumes of split bytes
// with n parity volumes, and returns the first volume's path, the data
// and the parity volumes.
func exportParity(t testing.TB, split int64, n int) (string, []Volume, []Volume) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	l := openLayout(t, src)
	packTag(t, l, "v1", 7, map[string]int{"a.bin": 3 << 20, "b.bin": 2<<20 + 333}, nil)
	out := filepath.Join(t.TempDir(), "stick", "m.tar")
	os.MkdirAll(filepath.Dir(out), 0o755)
	res, vols, err := ExportFile(ctx, l, out, split, ExportOptions{Parity: n})
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Parity) != n {
		t.Fatalf("%d parity volumes, want %d", len(res.Parity), n)
	}
	return vols[0].Path, vols, res.Parity
}

// importFiles imports files into a new layout and returns the result,
// the notices and the layout's directory (closed: staging removed).
func importFiles(t testing.TB, files ...string) (*ImportResult, []string, string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	l := openLayout(t, dir)
	var notes []string
	res, err := ImportFiles(ctx, l, files, ImportOptions{Notify: func(s string) { notes = append(notes, s) }})
	if cerr := l.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if _, serr := os.Stat(filepath.Join(dir, layout.PrivateDir, "tmp")); serr == nil {
		if left, _ := filepath.Glob(filepath.Join(dir, layout.PrivateDir, "tmp", "*", "*")); len(left) > 0 {
			t.Errorf("staging left behind: %v", left)
		}
	}
	return res, notes, dir, err
}

// tagged fails unless the layout at dir verifies and has tag v1.
func tagged(t testing.TB, dir string) {
	t.Helper()
	verified(t, dir)
	l, err := layout.Open(dir, layout.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if d, err := l.Resolve(ctx, layout.Ref{Layout: dir, Tag: "v1"}); err != nil || d.Digest == "" {
		t.Errorf("tag v1: %v", err)
	}
}

func TestImportRebuildsFromParity(t *testing.T) {
	t.Run("two-data-volumes-deleted", func(t *testing.T) {
		first, vols, _ := exportParity(t, 1<<20+1, 2)
		os.Remove(vols[0].Path)
		os.Remove(vols[3].Path)
		res, _, dir, err := importFiles(t, first)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(res.RebuiltVolumes, ", "); got != "m.tar.000 (missing), m.tar.003 (missing)" {
			t.Errorf("rebuilt %q", got)
		}
		tagged(t, dir)
		if _, err := os.Stat(vols[0].Path); !os.IsNotExist(err) {
			t.Error("import wrote beside the volumes")
		}
	})
	t.Run("truncated-and-no-sidecar", func(t *testing.T) {
		first, vols, _ := exportParity(t, 1<<20+1, 1)
		os.Truncate(vols[2].Path, 100)
		os.Remove(strings.TrimSuffix(first, ".000") + SidecarSuffix)
		res, _, dir, err := importFiles(t, first)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RebuiltVolumes) != 1 || !strings.HasPrefix(res.RebuiltVolumes[0], "m.tar.002 (100 bytes") {
			t.Errorf("rebuilt %q", res.RebuiltVolumes)
		}
		tagged(t, dir)
	})
	t.Run("corrupt-in-place", func(t *testing.T) {
		first, vols, _ := exportParity(t, 1<<20+1, 1)
		flipByte(t, vols[1].Path, 4000)
		res, notes, dir, err := importFiles(t, first)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RebuiltVolumes) != 1 || !strings.HasPrefix(res.RebuiltVolumes[0], "m.tar.001 (corrupted") {
			t.Errorf("rebuilt %q", res.RebuiltVolumes)
		}
		if !strings.Contains(strings.Join(notes, "\n"), "importing again") {
			t.Errorf("notices %q", notes)
		}
		tagged(t, dir)
	})
	t.Run("corrupt-and-deleted", func(t *testing.T) {
		first, vols, _ := exportParity(t, 1<<20+1, 2)
		os.Remove(vols[4].Path)
		flipByte(t, vols[1].Path, 4000)
		res, _, dir, err := importFiles(t, first)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RebuiltVolumes) != 2 {
			t.Errorf("rebuilt %q", res.RebuiltVolumes)
		}
		tagged(t, dir)
	})
	t.Run("too-many-lost", func(t *testing.T) {
		first, vols, par := exportParity(t, 1<<20+1, 2)
		os.Remove(vols[1].Path)
		flipByte(t, vols[3].Path, 10) // found while rebuilding .001
		os.Remove(par[1].Path)
		tg := newEmptyTarget(t)
		l := openLayout(t, tg.dir)
		_, err := ImportFiles(ctx, l, []string{first}, ImportOptions{})
		l.Close()
		if !errors.Is(err, ErrUnrecoverable) {
			t.Fatalf("error %v, want ErrUnrecoverable", err)
		}
		for _, name := range []string{"m.tar.001 (missing)", "m.tar.003 (corrupted: content is", "m.tar.par1 (missing)"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
		tg.unchanged(t)
	})
	t.Run("foreign-parity-data-whole", func(t *testing.T) {
		first, _, par := exportParity(t, 1<<20+1, 1)
		os.WriteFile(par[0].Path, []byte("not parity"), 0o644)
		_, notes, dir, err := importFiles(t, first)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(notes, "\n"), "parity volumes of") {
			t.Errorf("notices %q", notes)
		}
		tagged(t, dir)
	})
}
