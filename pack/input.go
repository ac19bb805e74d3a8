package pack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// openInput opens a file to pack, refusing anything but a regular file
// before opening it (a FIFO would block forever, a device never end).
func openInput(p string) (*os.File, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("unsupported file type %s: %s", fsx.FileKind(fi.Mode()), p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// openInputIn opens rel inside root for a preset (issue 12 class 6): a
// symlink is followed only while it stays inside root (os.Root refuses
// one that leaves it), and only a regular file is opened — checked before
// the open, which does not block, and again on the open file.
func openInputIn(root *os.Root, rel string) (*os.File, error) {
	before, err := root.Stat(rel)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("unsupported file type %s: %s", fsx.FileKind(before.Mode()), rel)
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|fsx.ONonblock, 0)
	if err != nil {
		return nil, err
	}
	if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
		f.Close()
		return nil, fmt.Errorf("%s: replaced while opening", rel)
	}
	return f, nil
}

// sampleWindow is the size of each window read to judge compressibility.
const sampleWindow = 64 << 10

// maxSampledFiles bounds how many files a directory's sample comes from.
const maxSampledFiles = 8

// sampleFile reads up to three windows of f (start, middle, end) — a
// deterministic sample of size bytes.
func sampleFile(p string, size int64) ([][]byte, error) {
	f, err := openInput(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	offsets := []int64{0}
	if size > 3*sampleWindow {
		offsets = append(offsets, size/2-sampleWindow/2, size-sampleWindow)
	}
	var out [][]byte
	for _, off := range offsets {
		b := make([]byte, min(int64(sampleWindow), size))
		n, err := f.ReadAt(b, off)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		out = append(out, b[:n])
	}
	return out, nil
}

// sampleEntries samples the largest regular files among entries (ties by
// name), so the choice of codec depends on content, not on walk luck.
func sampleEntries(entries []entry) ([][]byte, error) {
	var files []entry
	for _, e := range entries {
		if e.info.Mode().IsRegular() && e.info.Size() > 0 {
			files = append(files, e)
		}
	}
	// entries are in name order; a stable sort by size keeps ties by name.
	sortStableBySizeDesc(files)
	var out [][]byte
	for i, e := range files {
		if i == maxSampledFiles {
			break
		}
		s, err := sampleFile(e.path, e.info.Size())
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

func sortStableBySizeDesc(es []entry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].info.Size() > es[j].info.Size() })
}

// layoutGuard refuses inputs that are the output layout or lie inside it
// (RELIABILITY C-36): packing them would store the layout's own blobs,
// staging files and stat cache, which change while pack runs. Identity is
// compared by layout.Within on the input's resolved path and each of its
// ancestors. (A directory input that merely contains the layout is fine:
// the walk leaves the layout out.)
type layoutGuard struct {
	dir    string      // the layout as the caller named it, for messages
	layout os.FileInfo // nil when the layout cannot be stat'ed: nothing is refused
	// outside remembers resolved paths known not to be in the layout;
	// presets expand one tree into many inputs sharing their ancestors.
	outside map[string]bool
}

func newLayoutGuard(dir string) *layoutGuard {
	fi, _ := os.Stat(dir)
	return &layoutGuard{dir: dir, layout: fi, outside: map[string]bool{}}
}

// check returns an error wrapping layout.ErrInvalidArgument, naming both paths, if p is the
// layout or lies inside it. A path that cannot be resolved passes: opening
// it later reports the problem with its own error.
func (g *layoutGuard) check(what, p string) error {
	if g.layout == nil || p == "" {
		return nil
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil
	}
	if resolved, err = filepath.Abs(resolved); err != nil {
		return nil
	}
	if layout.Within(resolved, g.layout, os.Lstat, g.outside) {
		return fmt.Errorf("%w: refusing to pack the output layout into itself: %s %s (resolved: %s) is the layout %s or lies inside it", layout.ErrInvalidArgument, what, p, resolved, g.dir)
	}
	return nil
}
