package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// RepairResult says what Repair found and did.
type RepairResult struct {
	Base     string   // the volume set, FILE
	Volumes  int      // data and parity volumes in the set
	Rebuilt  []string // volumes rebuilt on disk, with why: "FILE.003 (missing)"
	Sidecar  string   // the sidecar, if Repair (re)wrote it
	Notes    []string // what else was noticed
	Verified bool     // every volume was read and matched its digest
}

// Repair checks every volume of the volume set path names (FILE.NNN or
// FILE.parP) against its sidecar and its parity volumes' lists, and
// rebuilds on disk every volume that is missing, of the wrong size,
// unreadable or corrupted — up to as many as there are parity volumes.
// Each rebuilt volume is written as NAME.partial beside the others
// (fsx.CreateOutput), checked against its recorded digest, fsynced and
// renamed into place; an
// existing NAME that is not a regular file (a symlink, a directory, a
// FIFO) is never replaced: the error says to remove it. A sidecar that is
// missing or unreadable is rewritten from the parity volumes' lists once
// every volume matched. More losses than parity volumes, parity volumes
// that belong to another export and cannot be told apart, or parity that
// rebuilds wrong bytes are errors wrapping ErrChecksum (ErrUnrecoverable
// when too much is lost), naming the volumes.
func Repair(ctx context.Context, path string) (*RepairResult, error) {
	base, err := setBase(path)
	if err != nil {
		return nil, err
	}
	s, err := loadParitySet(base)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: %s has no parity volumes (%s…) and its sidecar lists none: nothing to rebuild from", layout.ErrInvalidArgument, base, ParityPath(base, 0))
	}
	res := &RepairResult{Base: base, Volumes: s.k + s.n, Notes: s.notes}
	for attempt := 0; attempt <= s.n+1; attempt++ {
		if err := s.lostError(); err != nil {
			return res, err
		}
		lost := s.lost()
		done, err := s.repairPass(ctx, lost, res)
		if err != nil || done {
			return res, err
		}
	}
	return res, fmt.Errorf("%s: volumes kept failing their checks: %s: %w", base, s.describeLost(s.lost()), ErrUnrecoverable)
}

// setBase is FILE for FILE.NNN or FILE.parP.
func setBase(path string) (string, error) {
	if m := volumeName.FindStringSubmatch(path); m != nil {
		return m[1], nil
	}
	if m := parityName.FindStringSubmatch(path); m != nil {
		return m[1], nil
	}
	return "", fmt.Errorf("%w: %s is not a volume: give FILE.000 (or any FILE.NNN or FILE.parP of the set)", layout.ErrInvalidArgument, path)
}

// repairPass rebuilds the lost shards while checking every other one. It
// returns done once the set is whole; false when a shard read turned out
// bad (it is then marked lost and nothing was renamed into place).
func (s *paritySet) repairPass(ctx context.Context, lost []int, res *RepairResult) (bool, error) {
	var outs []rebuildOut
	var files []*fsx.Output
	defer func() {
		for _, f := range files {
			f.Abort() // nothing once committed
		}
	}()
	var need int64
	for _, i := range lost {
		if err := replaceable(s.shards[i].path); err != nil {
			return false, err
		}
		need += s.shards[i].size
	}
	if err := checkFree(filepath.Dir(s.base), need); err != nil {
		return false, err
	}
	for _, i := range lost {
		out, err := fsx.CreateOutput(s.shards[i].path, fsx.OutputOptions{FilesOnly: true, FilesOnlyWhy: splitNeedsFiles, Unnamed: true})
		if err != nil {
			return false, err
		}
		files = append(files, out)
		outs = append(outs, rebuildOut{shard: i, f: out.File()})
	}
	sums, bad, err := s.rebuild(ctx, outs, true)
	if err != nil || len(bad) > 0 {
		return false, err
	}
	for j, o := range outs {
		sh := s.shards[o.shard]
		if err := replaceable(sh.path); err != nil { // checked again: it may have changed meanwhile
			return false, err
		}
		if err := files[j].Commit(); err != nil { // fsync, rename, fsync the directory
			return false, err
		}
		res.Rebuilt = append(res.Rebuilt, fmt.Sprintf("%s (%s)", filepath.Base(sh.path), sh.problem))
		s.shards[o.shard].problem = ""
	}
	if s.sidecar == "" {
		if err := s.writeSidecar(sums); err != nil {
			return false, err
		}
		res.Sidecar = s.base + SidecarSuffix
	}
	res.Verified = true
	return true, nil
}

// replaceable refuses to put a rebuilt volume where something other than
// a regular file (or nothing) is.
func replaceable(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Mode().IsRegular() {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%s is a %s, not a volume: not replacing it; move it away and run repair again: %w", path, fsx.FileKind(fi.Mode()), fsx.ErrNotRegular)
}

// checkFree fails unless dir's file system has need bytes free (plus the
// import reserve), before anything is written.
func checkFree(dir string, need int64) error {
	free, err := freeSpace(dir)
	if err != nil || free < 0 {
		return nil // unknown: writing will tell
	}
	if r := reserve(free); free-r < need {
		return fmt.Errorf("rebuilding needs %d bytes in %s, %d free (minus a %d byte reserve): %w", need, dir, free, r, ErrNoSpace)
	}
	return nil
}

// writeSidecar writes the set's sidecar from the digests of a full pass.
func (s *paritySet) writeSidecar(sums map[int]digest.Digest) error {
	vols := make([]Volume, 0, len(s.shards))
	idx := make([]int, 0, len(sums))
	for i := range sums {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	if len(idx) != len(s.shards) {
		return fmt.Errorf("%s: cannot write a sidecar: %d of %d volumes checked", s.base, len(idx), len(s.shards))
	}
	for _, i := range idx {
		vols = append(vols, Volume{Path: s.shards[i].path, Size: s.shards[i].size, Digest: sums[i]})
	}
	out, err := fsx.CreateOutput(s.base+SidecarSuffix, fsx.OutputOptions{FilesOnly: true, FilesOnlyWhy: splitNeedsFiles, Unnamed: true})
	if err != nil {
		return err
	}
	if _, err := out.Write(formatSidecar(vols)); err != nil {
		out.Abort()
		return err
	}
	return out.Commit()
}
