package rtest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Snapshot is what [U] compares: index.json's hash, every file under
// blobs/ with its hash (or its type if not a regular file), and what is in
// the staging directory .oci-pack/tmp.
type Snapshot struct {
	Dir      string
	IndexSHA string
	Blobs    map[string]string // path under Dir → sha256 hex, or "symlink", "dir", …
	Staging  []string
}

// Snap records the layout at dir.
func Snap(t testing.TB, dir string) Snapshot {
	t.Helper()
	s := Snapshot{Dir: dir, Blobs: map[string]string{}}
	s.IndexSHA = fileSHA(filepath.Join(dir, "index.json"))
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type().IsRegular():
			s.Blobs[filepath.ToSlash(rel)] = fileSHA(p)
		case d.IsDir():
		default:
			s.Blobs[filepath.ToSlash(rel)] = d.Type().String()
		}
		return nil
	})
	s.Staging = staging(dir)
	return s
}

func fileSHA(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return "absent"
	}
	if !fi.Mode().IsRegular() {
		return fi.Mode().Type().String()
	}
	f, err := os.Open(p)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable: " + err.Error()
	}
	return hex.EncodeToString(h.Sum(nil))
}

func staging(dir string) []string {
	var out []string
	root := filepath.Join(dir, ".oci-pack", "tmp")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != root {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// AssertUnchanged checks [U] against the layout now: index.json
// byte-identical; every blob that was there is still there, unchanged; any
// new file under blobs/ is a complete blob whose content hashes to its
// name (harmless, what lets a re-run resume); no staging left and no
// *.partial file anywhere in the layout.
func (s Snapshot) AssertUnchanged(t testing.TB) {
	t.Helper()
	now := Snap(t, s.Dir)
	if now.IndexSHA != s.IndexSHA {
		t.Errorf("[U] index.json changed: sha256 %s, was %s", now.IndexSHA, s.IndexSHA)
	}
	for p, h := range s.Blobs {
		if now.Blobs[p] != h {
			t.Errorf("[U] %s changed: %s, was %s", p, orAbsent(now.Blobs[p]), h)
		}
	}
	for p, h := range now.Blobs {
		if _, ok := s.Blobs[p]; ok {
			continue
		}
		if !strings.HasPrefix(p, "blobs/sha256/") || strings.TrimPrefix(p, "blobs/sha256/") != h {
			t.Errorf("[U][N] new file %s under blobs/ is not a complete verified blob (content sha256 %s)", p, h)
		}
	}
	AssertNoStaging(t, s.Dir)
}

func orAbsent(h string) string {
	if h == "" {
		return "absent"
	}
	return h
}

// AssertNoStaging checks that no staging is left in the layout at dir
// (.oci-pack/tmp empty) and that no *.partial file is in any of dirs or
// the layout — but for an import's checkpoint: the blob an import was
// staging when its archive ended or its disk filled, kept under
// .oci-pack/resume beside the state (import-<key>.json) a re-run of that
// import continues from (issue 18). A partial there without its state is
// an orphan nothing would ever use, and fails.
func AssertNoStaging(t testing.TB, dir string, dirs ...string) {
	t.Helper()
	if st := staging(dir); len(st) > 0 {
		t.Errorf("[U] staging left in %s: %v", dir, st)
	}
	resume := filepath.Join(dir, ".oci-pack", "resume")
	for _, d := range append([]string{dir}, dirs...) {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !strings.HasSuffix(p, ".partial") {
				return nil
			}
			if filepath.Dir(p) == resume && strings.HasPrefix(filepath.Base(p), "import-") {
				state := strings.TrimSuffix(p, ".partial") + ".json"
				if fi, err := os.Lstat(state); err == nil && fi.Mode().IsRegular() {
					return nil
				}
				t.Errorf("[N] import checkpoint %s left without its state %s", p, filepath.Base(state))
				return nil
			}
			t.Errorf("[N] partial file left: %s", p)
			return nil
		})
	}
}

// AssertVerify checks [V]: `oci-pack verify LAYOUT` exits 0.
func AssertVerify(t testing.TB, dir string) {
	t.Helper()
	if r := Run(t, "verify", "-q", dir); r.Code != 0 {
		t.Errorf("[V] verify failed: %v", r)
	}
}
