package archive

import (
	"errors"
	"fmt"
	"github.com/oci-pack/oci-pack/cas"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

// volumeName matches a volume's name: FILE.NNN.
var volumeName = regexp.MustCompile(`^(.+)\.([0-9]{3})$`)

// VolumeReader reads an archive's files in order as one stream, without
// joining them on disk. When a sidecar FILE.sha256 lies beside them, every
// volume must be listed in it and every listed volume present, and each
// volume is hashed as it is read (on another goroutine) and checked the
// moment its last byte has been read.
type VolumeReader struct {
	paths   []string
	sidecar string                   // "" when there is none
	sums    map[string]digest.Digest // base name → digest, from the sidecar
	size    int64                    // total bytes, -1 if unknown
	i       int                      // current volume
	f       *os.File
	h       *cas.AsyncHash
	err     error // sticky
}

// OpenVolumes prepares to read an archive given as one file, as all its
// volumes in order, or as its first volume FILE.000 alone (FILE.001, … are
// then found by name). Volumes named FILE.NNN must be consecutive from
// 000; a gap is an error (ErrTruncated).
func OpenVolumes(paths []string) (*VolumeReader, error) {
	if len(paths) == 0 {
		return nil, errors.New("no archive given")
	}
	paths = append([]string(nil), paths...)
	if m := volumeName.FindStringSubmatch(paths[0]); m != nil && m[2] != "000" {
		if _, err := os.Stat(m[1] + ".000"); err == nil {
			return nil, fmt.Errorf("%s is not the first volume: give %s.000 (the others are found by name)", paths[0], m[1])
		}
	}
	base, numbered := volumeBase(paths)
	if numbered && len(paths) == 1 {
		for i := 1; i < MaxVolumes; i++ {
			p := fmt.Sprintf("%s.%03d", base, i)
			if _, err := os.Stat(p); err != nil {
				break
			}
			paths = append(paths, p)
		}
	}
	if numbered {
		for i, p := range paths {
			if want := fmt.Sprintf("%s.%03d", base, i); p != want {
				return nil, fmt.Errorf("volume %d is %s, expected %s (volumes must be given in order, none missing): %w", i, p, want, ErrTruncated)
			}
		}
	}
	v := &VolumeReader{paths: paths}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			v.size = -1 // a pipe (<(...)) or device: fine, size unknown
		} else if v.size >= 0 {
			v.size += fi.Size()
		}
	}
	if err := v.loadSidecar(base + SidecarSuffix); err != nil {
		return nil, err
	}
	return v, nil
}

// volumeBase returns FILE for volumes FILE.NNN (numbered) or for a single
// file FILE.
func volumeBase(paths []string) (string, bool) {
	m := volumeName.FindStringSubmatch(paths[0])
	if m == nil || m[2] != "000" {
		return paths[0], false
	}
	return m[1], true
}

// loadSidecar reads the sidecar if it exists and checks that it lists
// exactly the volumes to be read.
func (v *VolumeReader) loadSidecar(path string) error {
	sums, err := readSidecar(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, p := range v.paths {
		name := filepath.Base(p)
		have[name] = true
		if _, ok := sums[name]; !ok {
			return fmt.Errorf("%s is not listed in %s: %w", p, path, ErrChecksum)
		}
	}
	var missing []string
	for name := range sums {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing) // the first gap first, whatever the map order
		return fmt.Errorf("%s lists %s, not given or found (volume missing?): %w", path, strings.Join(missing, ", "), ErrTruncated)
	}
	v.sidecar, v.sums = path, sums
	return nil
}

// Paths are the files read, in order.
func (v *VolumeReader) Paths() []string { return v.paths }

// Sidecar is the checksum file in use, or "".
func (v *VolumeReader) Sidecar() string { return v.sidecar }

// Size is the total size of the volumes, or -1 if one is not a regular
// file.
func (v *VolumeReader) Size() int64 { return v.size }

// Read reads the volumes in turn. At the end of each volume its digest is
// checked against the sidecar; a mismatch is an error wrapping
// ErrChecksum instead of more data.
func (v *VolumeReader) Read(p []byte) (int, error) {
	for v.err == nil {
		if v.f == nil {
			if v.i == len(v.paths) {
				return 0, io.EOF
			}
			f, err := os.Open(v.paths[v.i])
			if err != nil {
				v.err = err
				break
			}
			v.f = f
			if v.sums != nil {
				v.h = cas.NewAsyncHash(digest.SHA256)
			}
		}
		n, err := v.f.Read(p)
		if v.h != nil {
			v.h.Write(p[:n])
		}
		if err == io.EOF {
			v.err = v.next()
			if n > 0 || v.err != nil {
				return n, v.err
			}
			continue
		}
		if err != nil {
			v.err = fmt.Errorf("read %s: %w", v.paths[v.i], err)
		}
		return n, v.err
	}
	return 0, v.err
}

// next closes the finished volume and checks it against the sidecar.
func (v *VolumeReader) next() error {
	path := v.paths[v.i]
	v.f.Close()
	v.f = nil
	v.i++
	if v.h == nil {
		return nil
	}
	got := v.h.Sum()
	v.h = nil
	if want := v.sums[filepath.Base(path)]; got != want {
		return fmt.Errorf("%w: file truncated or corrupted: %s is %s, %s says %s", ErrChecksum, path, got, filepath.Base(v.sidecar), want)
	}
	return nil
}

// Finish reads whatever is left of the volumes and reports the first
// sidecar mismatch, if any. After an import failed, it tells a damaged
// volume (the cause to report) from a hostile but intact archive. With no
// sidecar it only closes the reader.
func (v *VolumeReader) Finish() error {
	if v.sums == nil {
		v.Close()
		return nil
	}
	buf := make([]byte, copyBufferSize)
	for {
		_, err := v.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			v.Close()
			if errors.Is(err, ErrChecksum) {
				return err
			}
			return fmt.Errorf("checking volumes against %s: %w", v.sidecar, err)
		}
	}
}

// Close releases the open volume.
func (v *VolumeReader) Close() error {
	if v.h != nil {
		v.h.Sum()
		v.h = nil
	}
	if v.f != nil {
		err := v.f.Close()
		v.f = nil
		return err
	}
	return nil
}
