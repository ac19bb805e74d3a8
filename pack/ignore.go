package pack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
)

// IgnoreFile is the file at the top of a directory input whose patterns,
// in gitignore syntax, leave paths of that directory out of the artifact.
const IgnoreFile = ".ocipackignore"

// maxIgnoreFile bounds an IgnoreFile; it is a list of patterns.
const maxIgnoreFile = 1 << 20

// ErrBadPattern: an exclude pattern is malformed (it wraps
// layout.ErrInvalidArgument).
var ErrBadPattern = fmt.Errorf("%w: malformed exclude pattern", layout.ErrInvalidArgument)

// ignorer decides which paths of one directory input are left out, by
// gitignore's rules, for a single ignore file at the directory's top:
//
//   - blank lines and lines starting with "#" are skipped; "\#" and "\!"
//     escape; trailing spaces are trimmed unless escaped with "\";
//   - "!" re-includes what an earlier pattern excluded (not below an
//     excluded directory: it is never walked);
//   - a trailing "/" matches directories only;
//   - a pattern with a "/" at its start or middle is anchored at the
//     directory's top; one without matches a name at any depth;
//   - "*", "?" and "[…]" match within one path component; "**" matches
//     any number of components ("**/x", "a/**/b", "a/**").
//
// The last matching pattern decides. Patterns is what applied, in order:
// the ignore file's, then the caller's (which so win).
type ignorer struct {
	rules    []ignoreRule
	patterns []string
}

type ignoreRule struct {
	segs    []string
	neg     bool
	dirOnly bool
}

// newIgnorer compiles patterns (ignore-file lines or --exclude values).
func newIgnorer(patterns []string) (*ignorer, error) {
	m := &ignorer{}
	for _, line := range patterns {
		r, ok, err := parseIgnoreLine(line)
		if err != nil {
			return nil, err
		}
		if ok {
			m.rules = append(m.rules, r)
			m.patterns = append(m.patterns, line)
		}
	}
	return m, nil
}

func parseIgnoreLine(line string) (ignoreRule, bool, error) {
	var r ignoreRule
	p := strings.TrimSuffix(line, "\r")
	// Trailing spaces go unless escaped.
	for strings.HasSuffix(p, " ") && !strings.HasSuffix(p, "\\ ") {
		p = p[:len(p)-1]
	}
	switch {
	case p == "", strings.HasPrefix(p, "#"):
		return r, false, nil
	case strings.HasPrefix(p, "!"):
		r.neg, p = true, p[1:]
	case strings.HasPrefix(p, `\#`), strings.HasPrefix(p, `\!`):
		p = p[1:]
	}
	if strings.HasSuffix(p, "/") {
		r.dirOnly, p = true, strings.TrimRight(p, "/")
	}
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return r, false, nil
	}
	r.segs = strings.Split(p, "/")
	if !anchored {
		r.segs = append([]string{"**"}, r.segs...)
	}
	for _, s := range r.segs {
		if _, err := path.Match(s, ""); err != nil {
			return r, false, fmt.Errorf("%w %q", ErrBadPattern, line)
		}
	}
	return r, true, nil
}

// ignored reports whether rel (slash-separated, relative to the
// directory's top) is left out.
func (m *ignorer) ignored(rel string, isDir bool) bool {
	if m == nil || len(m.rules) == 0 || rel == "." || rel == "" {
		return false
	}
	name := strings.Split(rel, "/")
	out := false
	for _, r := range m.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if matchSegs(r.segs, name) {
			out = !r.neg
		}
	}
	return out
}

// matchSegs matches path components against pattern components, "**"
// standing for any number of them (at the end: at least one).
func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return len(name) > 0
			}
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// loadIgnorer reads dir's IgnoreFile (if any) and adds extra after its
// lines. A missing file is no patterns; anything but a regular file, or
// one over maxIgnoreFile, is refused.
func loadIgnorer(dir string, extra []string) (*ignorer, error) {
	lines, err := readIgnoreFile(filepath.Join(dir, IgnoreFile))
	if err != nil {
		return nil, err
	}
	return newIgnorer(append(lines, extra...))
}

func readIgnoreFile(p string) ([]string, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", layout.ErrInvalidArgument, p)
	}
	f, err := openInput(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIgnoreFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxIgnoreFile {
		return nil, fmt.Errorf("%w: %s is over %d bytes", layout.ErrInvalidArgument, p, maxIgnoreFile)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxIgnoreFile)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
