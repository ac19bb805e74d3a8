package archive

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
)

// TestCheckOutside: every output path inside the layout (directly, via
// "..", via a symlinked directory, or the layout itself) is a usage
// error naming both paths; paths beside it, and a final name that is a
// symlink into it (replaced, not followed), pass.
func TestCheckOutside(t *testing.T) {
	parent := t.TempDir()
	l := filepath.Join(parent, "L")
	for _, d := range []string{"blobs/sha256", ".oci-pack"} {
		if err := os.MkdirAll(filepath.Join(l, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	in := func(p string) string { return filepath.Join(parent, p) }
	bad := []string{
		in("L/index.json"), in("L/blobs/sha256/" + strings.Repeat("a", 64)), in("L/.oci-pack/gc.lock"),
		in("L/new.tar"), in("L"), in("L/blobs/../oci-layout"), in("L") + string(filepath.Separator), in("L/blobs/.."),
	}
	good := []string{in("x.tar"), in("Lx/x.tar"), in("no-such-dir/x.tar")}
	if runtime.GOOS != "windows" {
		os.Symlink(l, in("link"))
		os.Symlink(filepath.Join(l, "index.json"), in("file-link.tar"))
		bad = append(bad, in("link/index.json"), in("link/blobs/x.tar"))
		good = append(good, in("file-link.tar"))
	}
	os.Mkdir(in("Lx"), 0o755)
	for _, out := range bad {
		err := CheckOutside(l, out)
		if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), out) {
			t.Errorf("-o %s: err = %v, want a usage error naming it", out, err)
		} else if !strings.Contains(err.Error(), "expected a file name") && !strings.Contains(err.Error(), l) {
			t.Errorf("-o %s: %v does not name the layout %s", out, err, l)
		}
	}
	for _, out := range good {
		if err := CheckOutside(l, out); err != nil {
			t.Errorf("-o %s: %v", out, err)
		}
	}
	// The layout named through a symlink is the same layout.
	if runtime.GOOS != "windows" {
		if err := CheckOutside(in("link"), in("L/x.tar")); !errors.Is(err, layout.ErrInvalidArgument) {
			t.Errorf("layout via symlink: err = %v, want a usage error", err)
		}
	}
}

// TestCheckOutsideRelative: relative paths are resolved against the
// working directory, as the CLI gives them.
func TestCheckOutsideRelative(t *testing.T) {
	parent := t.TempDir()
	if err := os.MkdirAll(filepath.Join(parent, "L", "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(parent)
	if err := CheckOutside("L", "L/index.json"); !errors.Is(err, layout.ErrInvalidArgument) {
		t.Errorf("L/index.json: err = %v", err)
	}
	if err := CheckOutside("L", "./L/./blobs/../x.tar"); !errors.Is(err, layout.ErrInvalidArgument) {
		t.Errorf("./L/./blobs/../x.tar: err = %v", err)
	}
	if err := CheckOutside("L", "x.tar"); err != nil {
		t.Errorf("x.tar: %v", err)
	}
	if err := CheckOutside("./L/", "L.tar"); err != nil {
		t.Errorf("L.tar: %v", err)
	}
}
