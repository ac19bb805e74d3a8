package extract

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// maxComponent is the longest file name component accepted (NAME_MAX on
// Linux and the limit of exFAT, NTFS and APFS).
const maxComponent = 255

// cleanName checks a name taken from untrusted input — a title or filepath
// annotation, a tar entry name, a hardlink target, an index member name —
// and returns it slash-cleaned. The cleaned name is a local path
// (filepath.IsLocal): not empty, not ".", not absolute, no ".." escaping,
// no NUL byte, no component over 255 bytes; on Windows also no backslash,
// no reserved name (CON, NUL.txt…) and no component ending in a dot or a
// space. The error text is the reason only (callers add which name it was).
func cleanName(name string) (string, error) {
	if name == "" {
		return "", errors.New("is empty")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", errors.New("contains a NUL byte")
	}
	if runtime.GOOS == "windows" && strings.Contains(name, `\`) {
		return "", errors.New("contains a backslash")
	}
	c := path.Clean(name)
	if c == "." || !filepath.IsLocal(filepath.FromSlash(c)) || path.IsAbs(name) {
		return "", errors.New("is not a local path")
	}
	for _, comp := range strings.Split(c, "/") {
		if len(comp) > maxComponent {
			return "", errors.New("has a component longer than 255 bytes")
		}
		if runtime.GOOS == "windows" && (strings.HasSuffix(comp, ".") || strings.HasSuffix(comp, " ")) {
			return "", errors.New("has a component ending in a dot or space (not representable on Windows)")
		}
	}
	return c, nil
}

// under reports whether name is base itself or lies below it (both
// cleaned, slash-separated).
func under(name, base string) bool {
	return name == base || strings.HasPrefix(name, base+"/")
}

// join joins a member prefix and a cleaned name ("" prefix: the name).
func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// symlinkInside reports whether target, read from a symlink at name
// (relative to the extraction root), stays inside that root when resolved
// lexically from the link's directory. Absolute targets never do.
func symlinkInside(name, target string) bool {
	if target == "" || strings.IndexByte(target, 0) >= 0 || path.IsAbs(target) {
		return false
	}
	if runtime.GOOS == "windows" && (strings.Contains(target, `\`) || filepath.VolumeName(target) != "") {
		return false
	}
	r := path.Join(path.Dir(name), target)
	return r == "." || filepath.IsLocal(filepath.FromSlash(r))
}

// matcher is the --include filter: a name is included when a glob matches
// it or one of its parent directories (so "tok" includes "tok/a.json").
type matcher []string

// checkGlobs rejects malformed patterns up front.
func checkGlobs(globs []string) error {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("include pattern %q is malformed", g)
		}
	}
	return nil
}

func (m matcher) match(name string) bool {
	if len(m) == 0 {
		return true
	}
	for q := name; ; q = path.Dir(q) {
		for _, g := range m {
			if ok, _ := path.Match(g, q); ok {
				return true
			}
		}
		if !strings.Contains(q, "/") {
			return false
		}
	}
}

// mayMatchUnder reports whether some name at or below dir could be
// included: a glob matches dir or a parent of it, or its leading
// components match dir's components. It lets a tar layer whose title no
// glob can reach be skipped without reading it.
func (m matcher) mayMatchUnder(dir string) bool {
	if len(m) == 0 || m.match(dir) {
		return true
	}
	ds := strings.Split(dir, "/")
	for _, g := range m {
		gs := strings.Split(g, "/")
		if len(gs) <= len(ds) {
			continue
		}
		ok := true
		for i := range ds {
			if hit, _ := path.Match(gs[i], ds[i]); !hit {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
