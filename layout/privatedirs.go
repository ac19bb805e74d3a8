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
// records among the blobs. The same holds the other way round:
// blobs/sha256 leading to ../.oci-pack/tmp made gc take every blob for
// stale staging. oci-pack never follows a link in its private state or
// between the blob directories: each of them, where present, must be a
// directory itself (a link leading outside the layout is refused by
// os.Root anyway).
func (l *Layout) checkPrivateDirs() error {
	dirs := []string{PrivateDir, stagingDir, ResumeDir, verifiedDir}
	for _, parent := range []string{verifiedDir, BlobsDir} {
		entries, err := readDirAll(l.root, parent)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink != 0 {
				dirs = append(dirs, path.Join(parent, e.Name()))
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
			return fmt.Errorf("%s/%s is a %s, not a directory: oci-pack never follows a link among its blob and private directories; remove it (rm %s/%s): %w",
				l.dir, rel, fsx.FileKind(fi.Mode()), l.dir, rel, ErrCorrupt)
		}
	}
	return nil
}
