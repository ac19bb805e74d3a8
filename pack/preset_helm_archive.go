package pack

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// This file checks a packaged chart (.tgz) the way helm's loader would
// read it, for the helm preset.

// Bounds on one scan of a packaged chart (RELIABILITY I8). They sit far
// above what a chart holds (helm's own loader takes at most 100 MiB of
// file data by default) and keep a hostile .tgz from costing unbounded
// time or memory.
const (
	// maxChartEntries bounds the tar entries of one chart.
	maxChartEntries = 1 << 16
	// maxChartNameBytes bounds the path bytes the scan remembers to find
	// duplicates: every entry's path and its parent directories'.
	maxChartNameBytes = 4 << 20
	// maxChartTarBytes bounds the decompressed tar stream: headers, file
	// data and padding.
	maxChartTarBytes = 128 << 20
)

// errChartTarBudget ends a scan whose tar stream exceeds maxChartTarBytes.
var errChartTarBudget = errors.New("chart tar stream over budget")

// chartYAMLFromArchive reads <chart>/Chart.yaml from the packaged chart at
// p, and checks every entry on the way, as helm's loader would see it:
// one top-level directory holding clean relative paths, each path once,
// only regular files and directories (see chartEntries.add). A violation
// is a usage error naming p and the entry. The scan streams within the
// bounds above; it also returns the digest of all of p's bytes as read,
// so a caller can tell whether the bytes it checked are the bytes stored.
func chartYAMLFromArchive(p string) ([]byte, digest.Digest, error) {
	f, err := openInput(p)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	d := digest.Canonical.Digester()
	raw := io.TeeReader(f, d.Hash())
	zr, err := gzip.NewReader(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: chart %s is neither a directory nor a gzip archive: %v", layout.ErrInvalidArgument, p, err)
	}
	y, err := scanChartTar(p, tar.NewReader(&budgetReader{r: zr, left: maxChartTarBytes}))
	if err != nil {
		return nil, "", err
	}
	// The rest of the file (the gzip trailer, anything after it) goes
	// into the digest too.
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return nil, "", fmt.Errorf("chart %s: %w", p, err)
	}
	return y, d.Digest(), nil
}

// scanChartTar reads every entry of the chart p's tar stream tr, checks
// it, and returns the content of <top>/Chart.yaml (at most maxChartYAML+1
// bytes).
func scanChartTar(p string, tr *tar.Reader) ([]byte, error) {
	ents := chartEntries{kinds: map[string]entryKind{}}
	var y []byte
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, chartReadError(p, err)
		}
		if n == maxChartEntries {
			return nil, fmt.Errorf("%w: chart %s has more than %d entries", layout.ErrInvalidArgument, p, maxChartEntries)
		}
		isChartYAML, err := ents.add(h)
		if err != nil {
			return nil, fmt.Errorf("%w: chart %s: entry %q: %v", layout.ErrInvalidArgument, p, h.Name, err)
		}
		if isChartYAML {
			if y, err = io.ReadAll(io.LimitReader(tr, maxChartYAML+1)); err != nil {
				return nil, chartReadError(p, err)
			}
		}
	}
	if y == nil {
		return nil, fmt.Errorf("%w: chart %s has no <name>/Chart.yaml", layout.ErrInvalidArgument, p)
	}
	return y, nil
}

// chartReadError classifies an error reading chart p's tar stream: over
// the budget is a usage error, anything else (corrupt gzip or tar) is
// returned as is, under the chart's name.
func chartReadError(p string, err error) error {
	if errors.Is(err, errChartTarBudget) {
		return fmt.Errorf("%w: chart %s unpacks to more than %d bytes of tar", layout.ErrInvalidArgument, p, maxChartTarBytes)
	}
	return fmt.Errorf("chart %s: %w", p, err)
}

// budgetReader reads from r until left bytes have been read, then fails
// with errChartTarBudget.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (b *budgetReader) Read(buf []byte) (int, error) {
	if b.left <= 0 {
		return 0, errChartTarBudget
	}
	if int64(len(buf)) > b.left {
		buf = buf[:b.left]
	}
	n, err := b.r.Read(buf)
	b.left -= int64(n)
	return n, err
}

// entryKind is what a chart path names.
type entryKind uint8

const (
	kindImplied entryKind = iota // a parent directory of an entry, with no entry of its own
	kindDir
	kindFile
)

// chartEntries is the set of paths a chart's entries have named so far.
type chartEntries struct {
	top       string               // the chart's top-level directory
	kinds     map[string]entryKind // every path seen, with its parents
	nameBytes int                  // bytes of the keys of kinds
}

// add checks the entry h against the rules of a chart archive and
// remembers its path. It reports whether h is the chart's Chart.yaml. The
// rules: a regular file or directory (no links, devices, FIFOs); a clean
// relative path (no "/" prefix, no "." or ".." or empty component, no
// backslash, no drive letter); under the same top-level directory as every
// other entry; not named by an earlier entry, nor under an earlier file.
// Errors describe the problem with h, without naming it.
func (c *chartEntries) add(h *tar.Header) (bool, error) {
	if err := checkEntryType(h); err != nil {
		return false, err
	}
	isDir := h.Typeflag == tar.TypeDir
	name, err := entryPath(h.Name, isDir)
	if err != nil {
		return false, err
	}
	if err := c.checkTop(name, isDir); err != nil {
		return false, err
	}
	if err := c.remember(name, isDir); err != nil {
		return false, err
	}
	return !isDir && name == c.top+"/Chart.yaml", nil
}

// checkEntryType accepts regular files and directories, what `helm
// package` writes; links would make a chart's content depend on what they
// point at.
func checkEntryType(h *tar.Header) error {
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir:
		return nil
	case tar.TypeSymlink:
		return fmt.Errorf("expected a regular file or directory, found a symlink to %q", h.Linkname)
	case tar.TypeLink:
		return fmt.Errorf("expected a regular file or directory, found a hardlink to %q", h.Linkname)
	}
	return fmt.Errorf("expected a regular file or directory, found a %s", fsx.TarTypeName(h.Typeflag))
}

// entryPath returns an entry's name without a directory's trailing "/",
// or an error if that is not a clean relative path, one that means the
// same to oci-pack, to helm and to a file system.
func entryPath(name string, isDir bool) (string, error) {
	if isDir {
		name = strings.TrimSuffix(name, "/")
	}
	switch {
	case name == "":
		return "", errors.New("expected a path, found an empty name")
	case strings.Contains(name, `\`):
		return "", errors.New(`expected "/" separators, found a backslash (helm reads it as a separator)`)
	case path.IsAbs(name):
		return "", errors.New("expected a path relative to the chart, found an absolute one")
	case hasDotDot(name):
		return "", errors.New(`expected a path inside the chart, found a ".." component`)
	case path.Clean(name) != name:
		return "", fmt.Errorf("expected a clean path (%q), found empty or \".\" components", path.Clean(name))
	}
	return name, nil
}

// hasDotDot reports whether a slash-separated path has a ".." component.
func hasDotDot(name string) bool {
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

// checkTop checks that the clean path name lies in the chart's top-level
// directory (the first entry's first component), below it unless it is a
// directory, and that the part below does not start with a drive letter
// (helm refuses "c:/…").
func (c *chartEntries) checkTop(name string, isDir bool) error {
	top, rest, below := strings.Cut(name, "/")
	if !below && !isDir {
		return errors.New("expected a file under the chart's directory, found one at the archive's top level")
	}
	if c.top == "" {
		if top == "Chart.yaml" {
			return errors.New(`expected the chart's directory, found a top-level directory named "Chart.yaml"`)
		}
		c.top = top
	}
	if top != c.top {
		return fmt.Errorf("expected every entry under the chart's directory %q, found one under %q", c.top, top)
	}
	if first, _, _ := strings.Cut(rest, "/"); isDriveLetter(first) {
		return fmt.Errorf("expected a plain path, found %q, a drive letter to Windows", first)
	}
	return nil
}

// isDriveLetter reports whether s is a Windows drive such as "c:".
func isDriveLetter(s string) bool {
	return len(s) == 2 && s[1] == ':' && ('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z')
}

// remember records name and its parent directories. It refuses a path an
// earlier entry named (duplicates are ambiguous: helm keeps the last,
// a first-match reader the first), a path under an earlier regular file,
// and a regular file where earlier entries put files under it.
func (c *chartEntries) remember(name string, isDir bool) error {
	for i := strings.IndexByte(name, '/'); i >= 0; i = nextSlash(name, i) {
		parent := name[:i]
		switch k, seen := c.kinds[parent]; {
		case !seen:
			if err := c.put(parent, kindImplied); err != nil {
				return err
			}
		case k == kindFile:
			return fmt.Errorf("expected %q to be a directory, found it is a regular file of an earlier entry", parent)
		}
	}
	k, seen := c.kinds[name]
	switch {
	case !seen && isDir:
		return c.put(name, kindDir)
	case !seen:
		return c.put(name, kindFile)
	case k == kindImplied && isDir:
		c.kinds[name] = kindDir
		return nil
	case k == kindImplied:
		return errors.New("expected a directory (earlier entries lie under this path), found a regular file")
	}
	return errors.New("expected each path once, found this path again (an earlier entry has it)")
}

// nextSlash returns the index of the first "/" in name after index i, or
// -1.
func nextSlash(name string, i int) int {
	j := strings.IndexByte(name[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// put records a new path, within maxChartNameBytes.
func (c *chartEntries) put(name string, k entryKind) error {
	if c.nameBytes += len(name); c.nameBytes > maxChartNameBytes {
		return fmt.Errorf("expected at most %d bytes of paths in a chart, found more", maxChartNameBytes)
	}
	c.kinds[name] = k
	return nil
}
