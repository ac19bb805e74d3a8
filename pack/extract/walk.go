package extract

import (
	"io/fs"
	"os"
	"path"
)

// walkRoot calls fn for top and everything below it in r, parents before
// children, without following symlinks; fn runs before a directory is
// read, so it may make the directory readable. Unlike fs.WalkDir over
// r.FS(), it takes every name the file system holds (io/fs refuses names
// that are not valid UTF-8, which image layers may carry), and its cost
// grows with the number of entries, not with their depth: each directory
// is read through a root opened on it, not resolved from r again (which
// made a 2,000-deep tree take seconds). It holds one descriptor per level
// of the directory being read. The first error, from fn or from reading,
// stops the walk.
func walkRoot(r *os.Root, top string, fn func(p string, fi fs.FileInfo) error) error {
	fi, err := r.Lstat(top)
	if err != nil {
		return err
	}
	return walkIn(r, top, top, fi, fn)
}

// walkIn walks name, which fi describes, in its parent's root r; p is its
// path for fn.
func walkIn(r *os.Root, name, p string, fi fs.FileInfo, fn func(p string, fi fs.FileInfo) error) error {
	if err := fn(p, fi); err != nil || !fi.IsDir() {
		return err
	}
	dir, err := r.OpenRoot(name)
	if err != nil {
		return err
	}
	defer dir.Close()
	f, err := dir.Open(".")
	if err != nil {
		return err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := dir.Lstat(e.Name())
		if err != nil {
			return err
		}
		if err := walkIn(dir, e.Name(), path.Join(p, e.Name()), info, fn); err != nil {
			return err
		}
	}
	return nil
}
