package archive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// volumeName matches a volume's name: FILE.NNN (FILE may hold any byte,
// a newline too).
var volumeName = regexp.MustCompile(`(?s)^(.+)\.([0-9]{3})$`)

// VolumeReader reads an archive's files in order as one stream, without
// joining them on disk. When a sidecar FILE.sha256 lies beside them, every
// volume must be listed in it and every listed volume present, and each
// volume is hashed as it is read (on another goroutine) and checked the
// moment its last byte has been read.
//
// Volumes the user did not name — FILE.001, … found beside FILE.000, and
// the sidecar — are opened by fsx.OpenUnnamed: they must be regular files
// (a FIFO or a link to /dev/zero is refused, never read), and
// (RELIABILITY I15) every regular volume is read no further than the size
// it had when opened. A volume the user named may be a stream (a FIFO, a
// process substitution); it is read as such.
type VolumeReader struct {
	paths   []string
	named   int // paths[:named] were given by the user
	regular []bool
	want    string                   // the sidecar looked for
	sidecar string                   // "" when there is none
	sums    map[string]digest.Digest // base name → digest, from the sidecar
	// sidecarDigest is the sha256 of the sidecar's bytes as parsed.
	sidecarDigest digest.Digest
	size          int64 // total bytes, -1 if unknown
	i             int   // current volume
	f             *os.File
	r             io.Reader // reads f, bounded by its size when regular
	h             *cas.AsyncHash
	err           error // sticky
	corrupt       []int // volumes that did not match the sidecar, by index
	pos           int64 // bytes read of the current volume
	// resume, if not nil, is where hashing picks up again in a resumed
	// import (seekTo): the volumes before it were checked already.
	resume *volResume
}

// OpenVolumes prepares to read an archive given as one file, as all its
// volumes in order, or as its first volume FILE.000 alone (FILE.001, …
// are then found by name up to the first gap). Volumes named FILE.NNN
// must be consecutive from 000. A volume the archive needs that does not
// exist is ErrTruncated, and the error names only the volumes really
// missing: a gap among the volumes given, one the sidecar lists, or —
// without a sidecar to say how many there are — a gap before a volume
// found further on. Mistakes on the command line wrap layout.ErrInvalidArgument:
// volumes out of order (the error gives the order to use), one given
// twice, a file that is not a volume of the same FILE, a later volume
// given first or alone, and a volume that exists but was not given.
func OpenVolumes(paths []string) (*VolumeReader, error) {
	if len(paths) == 0 {
		return nil, errors.New("no archive given")
	}
	named := len(paths)
	paths, base, err := volumePaths(paths)
	if err != nil {
		return nil, err
	}
	v := &VolumeReader{paths: paths, named: min(named, len(paths)), want: base + SidecarSuffix}
	for i, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && exists(volumePath(p, 0)) {
			return nil, fmt.Errorf("%w; it was written as volumes: give the first, %s (the others are found from it)", err, volumePath(p, 0))
		}
		if err != nil {
			return nil, err
		}
		v.regular = append(v.regular, fi.Mode().IsRegular())
		switch {
		case fi.Mode().IsRegular():
			if v.size >= 0 {
				v.size += fi.Size()
			}
		case i >= v.named:
			return nil, fmt.Errorf("%s (found beside %s) is a %s: a volume found by name must be a regular file; remove it, or give every volume by name to read it as a stream: %w",
				p, paths[0], fsx.FileKind(fi.Mode()), fsx.ErrNotRegular)
		default:
			v.size = -1 // a pipe (<(...)) or device named by the user: read as a stream, size unknown
		}
	}
	if err := v.loadSidecar(base); err != nil {
		return nil, err
	}
	return v, nil
}

// volumePaths returns the files to read, in order, and the name FILE the
// sidecar is named after. Files that are not volumes (the first given
// does not end in .NNN) are read as given, one after another.
func volumePaths(given []string) ([]string, string, error) {
	m := volumeName.FindStringSubmatch(given[0])
	switch {
	case m == nil:
		return given, given[0], nil
	case len(given) > 1:
		return given, m[1], checkGiven(m[1], given)
	case m[2] == "000":
		paths, err := foundVolumes(m[1])
		return paths, m[1], err
	}
	if first := volumePath(m[1], 0); exists(first) {
		return nil, "", fmt.Errorf("%w: %s is not the first volume: give %s (the others are found by name)", layout.ErrInvalidArgument, given[0], first)
	}
	return given, given[0], nil // a file that merely ends in .NNN
}

// volumePath is the name of volume n of base.
func volumePath(base string, n int) string { return fmt.Sprintf("%s.%03d", base, n) }

// foundVolumes lists base.000 and the volumes after it, found by name up
// to the first gap. With a sidecar, loadSidecar then names any volume it
// lists that is missing; without one, a volume found beyond the gap
// shows that the gap is missing volumes, and they are named.
func foundVolumes(base string) ([]string, error) {
	paths := []string{volumePath(base, 0)} // if it does not exist, opening it says so
	n := 1
	for ; n < MaxVolumes && exists(volumePath(base, n)); n++ {
		paths = append(paths, volumePath(base, n))
	}
	if exists(base + SidecarSuffix) {
		return paths, nil
	}
	for later := n + 1; later < MaxVolumes; later++ {
		if exists(volumePath(base, later)) {
			return nil, missingVolumes(base, n, later)
		}
	}
	return paths, nil
}

// missingVolumes is the error for volumes from up to (not including)
// found not existing while found does.
func missingVolumes(base string, from, found int) error {
	var absent []string
	for n := from; n < found; n++ {
		absent = append(absent, volumePath(base, n))
	}
	return fmt.Errorf("volumes not found: %s (%s is there; volume missing?): %w", strings.Join(absent, ", "), volumePath(base, found), ErrTruncated)
}

// checkGiven checks volumes given one by one: all of base, each once, in
// order, none left out below the last. Volumes after the last given are
// the sidecar's to check.
func checkGiven(base string, given []string) error {
	nums, err := volumeNumbers(base, given)
	if err != nil {
		return err
	}
	if !sort.IntsAreSorted(nums) {
		return fmt.Errorf("%w: volumes given out of order (%s): give them in order, %s, or %s alone (the others are found by name)",
			layout.ErrInvalidArgument, strings.Join(given, " "), strings.Join(sortedVolumes(given, nums), " "), volumePath(base, 0))
	}
	var absent, notGiven []string
	for n, i := 0, 0; i < len(nums); n++ {
		switch p := volumePath(base, n); {
		case nums[i] == n:
			i++
		case exists(p):
			notGiven = append(notGiven, p)
		default:
			absent = append(absent, p)
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("volumes not found: %s (given: %s; volume missing?): %w", strings.Join(absent, ", "), strings.Join(given, " "), ErrTruncated)
	}
	if len(notGiven) > 0 {
		return fmt.Errorf("%w: volumes present but not given: %s; give every volume in order, or %s alone (the others are found by name)",
			layout.ErrInvalidArgument, strings.Join(notGiven, ", "), volumePath(base, 0))
	}
	return nil
}

// volumeNumbers returns the volume number of each of given, all of which
// must be volumes of base, each given once.
func volumeNumbers(base string, given []string) ([]int, error) {
	nums := make([]int, len(given))
	seen := map[int]bool{}
	for i, p := range given {
		m := volumeName.FindStringSubmatch(p)
		if m == nil || filepath.Clean(m[1]) != filepath.Clean(base) {
			return nil, fmt.Errorf("%w: %s is not a volume of %s (expected %s.NNN, as %s)", layout.ErrInvalidArgument, p, base, base, given[0])
		}
		nums[i], _ = strconv.Atoi(m[2])
		if seen[nums[i]] {
			return nil, fmt.Errorf("%w: volume %s given twice", layout.ErrInvalidArgument, p)
		}
		seen[nums[i]] = true
	}
	return nums, nil
}

// sortedVolumes is given ordered by volume number.
func sortedVolumes(given []string, nums []int) []string {
	idx := make([]int, len(given))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return nums[idx[a]] < nums[idx[b]] })
	out := make([]string, len(given))
	for i, j := range idx {
		out[i] = given[j]
	}
	return out
}

// exists reports whether path names something (following symlinks, as
// the volume is then opened).
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadSidecar reads base's sidecar if it exists and checks that it lists
// exactly the volumes to be read. A listed volume missing from disk is
// ErrTruncated; one present but not given is a usage error; a listed
// name that is not a volume of base is ErrChecksum.
func (v *VolumeReader) loadSidecar(base string) error {
	path := base + SidecarSuffix
	sums, sd, err := readSidecarDigest(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dropParity(sums) // parity volumes are the parity code's to check
	have := map[string]bool{}
	for _, p := range v.paths {
		name := filepath.Base(p)
		have[name] = true
		if _, ok := sums[name]; !ok {
			return fmt.Errorf("%s is not listed in %s: %w", p, path, ErrChecksum)
		}
	}
	absent, present := unread(filepath.Dir(path), sums, have)
	if len(absent) > 0 {
		return fmt.Errorf("%s lists %s, not found (volume missing?): %w", path, strings.Join(absent, ", "), ErrTruncated)
	}
	for _, name := range present {
		if m := volumeName.FindStringSubmatch(name); m == nil || m[1] != filepath.Base(base) {
			return fmt.Errorf("%s lists %s, which is not a volume of %s: %w", path, name, base, ErrChecksum)
		}
	}
	if len(present) > 0 {
		return fmt.Errorf("%w: %s lists %s, present but not given: give every volume in order, or %s alone (the others are found by name)",
			layout.ErrInvalidArgument, path, strings.Join(present, ", "), volumePath(base, 0))
	}
	v.sidecar, v.sums, v.sidecarDigest = path, sums, sd
	return nil
}

// unread splits the names sums lists that are not in have into those
// missing from dir and those present there, each sorted (the first gap
// first, whatever the map order). Names are base names (readSidecar), so
// the lookups stay in dir.
func unread(dir string, sums map[string]digest.Digest, have map[string]bool) (absent, present []string) {
	for name := range sums {
		switch {
		case have[name]:
		case exists(filepath.Join(dir, name)):
			present = append(present, name)
		default:
			absent = append(absent, name)
		}
	}
	sort.Strings(absent)
	sort.Strings(present)
	return absent, present
}

// Paths are the files read, in order.
func (v *VolumeReader) Paths() []string { return v.paths }

// Sidecar is the checksum file in use, or "".
func (v *VolumeReader) Sidecar() string { return v.sidecar }

// SidecarPath is the checksum file looked for beside the volumes
// (FILE.sha256 for FILE or FILE.000), whether or not it exists.
func (v *VolumeReader) SidecarPath() string { return v.want }

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
			if v.err = v.open(); v.err != nil {
				break
			}
		}
		n, err := v.r.Read(p)
		v.hashRead(p[:n])
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

// open opens volume v.i: one the user named as it is (it may be a
// stream), one found by name only if it is a regular file; a regular
// volume is bounded by the size it has once open.
func (v *VolumeReader) open() error {
	path := v.paths[v.i]
	var f *os.File
	var fi fs.FileInfo
	var err error
	if v.i < v.named {
		if f, err = os.Open(path); err == nil {
			fi, err = f.Stat()
		}
	} else {
		f, fi, err = fsx.OpenUnnamed(path)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return err
	}
	v.f, v.r = f, f
	v.regular[v.i] = fi.Mode().IsRegular()
	if v.regular[v.i] {
		v.r = fsx.LimitReader(f, fi.Size(), path)
	}
	v.startHash()
	return nil
}

// next closes the finished volume and checks it against the sidecar.
func (v *VolumeReader) next() error {
	path := v.paths[v.i]
	v.f.Close()
	v.f, v.r = nil, nil
	v.restoreDue(v.i)
	v.i++
	if v.h == nil {
		return nil
	}
	got := v.h.Sum()
	v.h = nil
	if want := v.sums[filepath.Base(path)]; got != want {
		v.corrupt = append(v.corrupt, v.i-1)
		return fmt.Errorf("%w: file truncated or corrupted: %s is %s, %s says %s", ErrChecksum, path, got, filepath.Base(v.sidecar), want)
	}
	return nil
}

// Finish reads whatever is left of the volumes and reports the first
// sidecar mismatch, if any. After an import failed, it tells a damaged
// volume (the cause to report) from a hostile but intact archive. With no
// sidecar it only closes the reader. It reads only regular files, each
// no further than its size: at a volume that is a stream (named by the
// user) it stops, since such a volume may never end.
func (v *VolumeReader) Finish() error {
	if v.sums == nil {
		v.Close()
		return nil
	}
	buf := make([]byte, copyBufferSize)
	for {
		if v.err == nil && v.i < len(v.paths) && !v.regular[v.i] {
			v.Close()
			return nil
		}
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
		v.f, v.r = nil, nil
		return err
	}
	return nil
}

// GroupArchives splits the files given to import into archives: a run of
// consecutive volumes of one FILE (FILE.000, FILE.001, …) is one archive,
// and every other file is an archive of its own. OpenVolumes then checks
// each group.
func GroupArchives(files []string) [][]string {
	var groups [][]string
	prevBase := ""
	for _, f := range files {
		m := volumeName.FindStringSubmatch(f)
		if m != nil && len(groups) > 0 && m[1] == prevBase {
			groups[len(groups)-1] = append(groups[len(groups)-1], f)
			continue
		}
		groups = append(groups, []string{f})
		prevBase = ""
		if m != nil {
			prevBase = m[1]
		}
	}
	return groups
}
