package rtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Sentinel is [C]'s witness: files holding a secret marker placed around a
// target, with a listing of everything under the parent directory (except
// the paths a command may change) to compare against afterwards.
type Sentinel struct {
	Parent string
	// Secret is the marker every sentinel file holds; it must never turn up
	// in an output or a layout.
	Secret string
	// Files are the sentinel files, absolute.
	Files   []string
	allowed []string
	before  map[string]string
}

// SentinelNames are the files NewSentinel creates under the parent: the
// names hostile input aims at.
var SentinelNames = []string{"secret", ".bashrc", "x", "etc/passwd", "etc/shadow", "etc/cron.d/x", "home/u/.ssh/id_rsa", "tmp/keep"}

// NewSentinel creates the sentinel files under parent and records the
// listing of parent, leaving out allowed (paths relative to parent, or
// absolute) — the target and the layout a command may change.
func NewSentinel(t testing.TB, parent string, allowed ...string) *Sentinel {
	t.Helper()
	var b [12]byte
	rand.Read(b[:])
	s := &Sentinel{Parent: parent, Secret: "SENTINEL-SECRET-" + hex.EncodeToString(b[:])}
	for _, a := range allowed {
		if !filepath.IsAbs(a) {
			a = filepath.Join(parent, a)
		}
		s.allowed = append(s.allowed, filepath.Clean(a))
	}
	for _, n := range SentinelNames {
		p := filepath.Join(parent, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s.Secret+" "+n+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.Files = append(s.Files, p)
	}
	s.before = s.list(t)
	return s
}

// Path is the sentinel file named n (one of SentinelNames).
func (s *Sentinel) Path(n string) string { return filepath.Join(s.Parent, filepath.FromSlash(n)) }

func (s *Sentinel) skip(p string) bool {
	for _, a := range s.allowed {
		if p == a || strings.HasPrefix(p, a+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// list maps every path under Parent (not allowed) to its type, mode,
// size, mtime, link target or content hash.
func (s *Sentinel) list(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(s.Parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			out[p] = "error: " + err.Error()
			return nil
		}
		if p != s.Parent && s.skip(p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			out[p] = "error: " + err.Error()
			return nil
		}
		desc := fmt.Sprintf("%v size=%d mtime=%d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			desc += " sha256=" + fileSHA(p)
		case fi.IsDir():
			desc = fmt.Sprintf("%v", fi.Mode()) // entries are listed themselves
		}
		out[p] = desc
		return nil
	})
	return out
}

// AssertIntact checks [C]: nothing under Parent outside the allowed paths
// was created, removed, modified or chmod'ed.
func (s *Sentinel) AssertIntact(t testing.TB) {
	t.Helper()
	after := s.list(t)
	var problems []string
	for p, was := range s.before {
		if now, ok := after[p]; !ok {
			problems = append(problems, fmt.Sprintf("removed %s (was %s)", p, was))
		} else if now != was {
			problems = append(problems, fmt.Sprintf("changed %s: %s, was %s", p, now, was))
		}
	}
	for p, now := range after {
		if _, ok := s.before[p]; !ok {
			problems = append(problems, fmt.Sprintf("created %s (%s)", p, now))
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Errorf("[C] outside the target: %s", p)
	}
}

// AssertNotLeaked checks [C] for host reads: no regular file under any of
// paths (files or trees; symlinks are not followed) and none of texts
// (stdout, stderr) holds the secret.
func (s *Sentinel) AssertNotLeaked(t testing.TB, paths []string, texts ...string) {
	t.Helper()
	for _, txt := range texts {
		if strings.Contains(txt, s.Secret) {
			t.Errorf("[C] the sentinel secret leaked into the output: %s", clip(txt))
		}
	}
	for _, root := range paths {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if found, _ := fileContains(p, []byte(s.Secret)); found {
				t.Errorf("[C] the sentinel secret leaked into %s", p)
			}
			return nil
		})
	}
}

// fileContains streams p looking for needle.
func fileContains(p string, needle []byte) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20+len(needle))
	keep := 0
	for {
		n, err := f.Read(buf[keep:])
		if bytes.Contains(buf[:keep+n], needle) {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if keep+n >= len(needle) {
			copy(buf, buf[keep+n-len(needle)+1:keep+n])
			keep = len(needle) - 1
		} else {
			keep += n
		}
	}
}
