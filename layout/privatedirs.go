package layout

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// checkPrivateDirs refuses a layout whose private directories are not
// real directories. os.Root follows a symlink that stays inside the
// layout, so a link planted at .oci-pack/tmp or .oci-pack/resume pointing
// to ../blobs/sha256 (in a layout copied from someone, `cp -a` keeps it)
// would make gc, which empties those directories, delete every blob; one
// at .oci-pack or .oci-pack/verified[/ALG] would put locks, staging and
// records among the blobs. oci-pack never follows a link in its private
// state: each of them, where present, must be a directory itself.
func (l *Layout) checkPrivateDirs() error {
	dirs := []string{PrivateDir, stagingDir, ResumeDir, verifiedDir}
	if entries, err := readDirAll(l.root, verifiedDir); err == nil {
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink != 0 {
				dirs = append(dirs, path.Join(verifiedDir, e.Name()))
			}
		}
	}
	for _, rel := range dirs {
		fi, err := l.root.Lstat(rel)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", l.dir, rel, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s/%s is a %s, not a directory: oci-pack keeps private state there and never follows a link in it; remove it (rm %s/%s): %w",
				l.dir, rel, fsx.FileKind(fi.Mode()), l.dir, rel, ErrCorrupt)
		}
	}
	return nil
}
