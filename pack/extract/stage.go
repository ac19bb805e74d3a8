package extract

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// makeStage creates this run's staging directory in root and locks it
// (on Unix, an flock on the directory itself, which the kernel drops when
// the process dies), so a later run can tell a dead run's staging from a
// live one's. Before that it removes the staging directories of dead
// runs: a killed extraction leaves one behind, and nothing else would
// ever remove it. It returns the directory's name and the lock to close
// once the directory is gone.
func makeStage(root *os.Root, dir string) (string, *os.File, error) {
	reclaimStale(root)
	for range 10 {
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := stagePrefix + hex.EncodeToString(b[:])
		// Made as a member of liveStages, so a forced exit at any moment
		// removes it (RemoveStaging); Extract unregisters it once removed.
		if err := liveStages.Create(filepath.Join(dir, name), func() error { return root.Mkdir(name, 0o700) }); err != nil {
			return "", nil, err
		}
		lock, err := fsx.OpenDir(root, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // reclaimed by another run before it could be locked
		}
		if err != nil {
			root.Remove(name)
			return "", nil, err
		}
		// Another run reclaiming between the Mkdir and the lock may have
		// removed the directory: then try another name.
		if ok, err := lockDir(lock); err == nil && ok && sameDir(root, name, lock) {
			return name, lock, nil
		}
		lock.Close()
	}
	return "", nil, errors.New("could not create and lock a staging directory")
}

// liveStages are the staging directories of this process's extractions
// in progress, by path.
var liveStages fsx.TempSet

// RemoveStaging removes the staging directory of every extraction of this
// process in progress, and refuses new ones. It is for a process forced
// to exit by a signal without unwinding (a later extraction into the same
// directory would reclaim them, but nothing else would).
func RemoveStaging() {
	liveStages.RemoveAll(func(dir string) {
		// Staged directories may carry read-only modes.
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			return nil
		})
		// Workers may still be writing into it: retry until it is gone.
		for i := 0; i < 10 && os.RemoveAll(dir) != nil; i++ {
		}
	})
}

// reclaimStale removes the staging directories of extractions that are
// no longer running. Best effort: what cannot be removed stays.
func reclaimStale(root *os.Root) {
	if !canLockDirs {
		return // a live run's staging cannot be told from a dead one's
	}
	f, err := fsx.OpenDir(root, ".")
	if err != nil {
		return
	}
	entries, _ := f.ReadDir(-1)
	f.Close()
	for _, e := range entries {
		if !e.IsDir() || !isStageName(e.Name()) {
			continue
		}
		d, err := fsx.OpenDir(root, e.Name()) // never blocks on a FIFO swapped in
		if err != nil {
			continue
		}
		if ok, err := lockDir(d); err == nil && ok {
			_ = removeTree(root, e.Name())
		}
		d.Close()
	}
}

// isStageName says whether name is one makeStage gives: the prefix and
// 12 lower-case hex digits.
func isStageName(name string) bool {
	hexPart, ok := strings.CutPrefix(name, stagePrefix)
	if !ok || len(hexPart) != 12 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

// removeTree removes dir in root. Staged directories may carry read-only
// modes (from tar entries or an image), which stop an unprivileged
// RemoveAll; they are made writable and the removal retried.
func removeTree(root *os.Root, dir string) error {
	if err := root.RemoveAll(dir); err == nil {
		return nil
	}
	_ = walkRoot(root, dir, func(p string, fi fs.FileInfo) error {
		if fi.IsDir() {
			_ = root.Chmod(p, 0o700)
		}
		return nil
	})
	return root.RemoveAll(dir)
}

// sameDir says whether name in root is still the directory f is open on.
func sameDir(root *os.Root, name string, f *os.File) bool {
	a, err := root.Lstat(name)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}
