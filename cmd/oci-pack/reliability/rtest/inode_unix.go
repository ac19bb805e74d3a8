//go:build unix

package rtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// AssertNoSharedInode checks [C] for hardlinks: no file under dir is the
// same inode as a sentinel file.
func (s *Sentinel) AssertNoSharedInode(t testing.TB, dir string) {
	t.Helper()
	type key struct{ dev, ino uint64 }
	secret := map[key]string{}
	for _, p := range s.Files {
		if fi, err := os.Lstat(p); err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			secret[key{uint64(st.Dev), uint64(st.Ino)}] = p
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			if q, ok := secret[key{uint64(st.Dev), uint64(st.Ino)}]; ok {
				t.Errorf("[C] %s is a hardlink of the sentinel %s", p, q)
			}
		}
		return nil
	})
}
