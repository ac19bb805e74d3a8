package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
)

// CheckOutside refuses an export written into the layout it exports
// (`export L -o L/index.json`, `-o L/blobs/sha256/<hex>`): writing it
// would replace the very files being read. ExportFile calls it with every
// path an output reaches (after following a symlink, see
// fsx.CreateOutput); the .partial of each lies in the same directory, so
// it is enough that neither out nor any directory above it is layoutDir.
//
// out's directory is resolved with filepath.EvalSymlinks, and identity is
// compared with os.SameFile against layoutDir (whose own symlinks Stat
// follows), so symlinks, `..`, case-folding file systems and bind mounts
// cannot disguise the layout. An out
// whose last element is not a file name ("", ".", "..", a trailing
// separator) is refused, since FILE.partial would then land elsewhere.
// Refusals wrap layout.ErrInvalidArgument and name both paths. An output directory
// that does not exist passes: creating the export then fails, naming it.
func CheckOutside(layoutDir, out string) error {
	dir, name := filepath.Split(out)
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("%w: -o %s: expected a file name, found %q", layout.ErrInvalidArgument, out, name)
	}
	if dir == "" {
		dir = "."
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output directory of %s: %w", out, err)
	}
	if resolved, err = filepath.Abs(resolved); err != nil {
		return fmt.Errorf("output directory of %s: %w", out, err)
	}
	lfi, err := os.Stat(layoutDir)
	if err != nil {
		return fmt.Errorf("layout %s: %w", layoutDir, err)
	}
	target := filepath.Join(resolved, name)
	if layout.Within(target, lfi, os.Lstat, nil) {
		return fmt.Errorf("%w: refusing to write the export %s (resolved: %s) inside the layout %s it exports", layout.ErrInvalidArgument, out, target, layoutDir)
	}
	return nil
}
