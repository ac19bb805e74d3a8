package pack

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/oci-pack/oci-pack/cas"
)

// openInput opens a file to pack, refusing anything but a regular file
// before opening it (a FIFO would block forever, a device never end).
func openInput(p string) (*os.File, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("unsupported file type %s: %s", cas.FileKind(fi.Mode()), p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
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
