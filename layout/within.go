package layout

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Within reports whether the absolute path p, or one of its ancestors, is
// the directory dir describes. Identity is compared with os.SameFile, so
// symlinks, "..", case-folding file systems and bind mounts cannot
// disguise the directory. stat is os.Lstat when p's directories are
// already resolved (p itself is then not followed), or os.Stat to follow
// links at every level. outside, if not nil, caches paths known not to
// be within dir and is filled in: callers checking many paths of one tree
// pass the same map.
func Within(p string, dir fs.FileInfo, stat func(string) (fs.FileInfo, error), outside map[string]bool) bool {
	var visited []string
	for !outside[p] {
		if fi, err := stat(p); err == nil && os.SameFile(fi, dir) {
			return true
		}
		visited = append(visited, p)
		up := filepath.Dir(p)
		if up == p {
			break
		}
		p = up
	}
	if outside != nil {
		for _, v := range visited {
			outside[v] = true
		}
	}
	return false
}
