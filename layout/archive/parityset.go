package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// ErrUnrecoverable: more volumes of a set with parity are lost or damaged
// than its parity volumes can rebuild (wraps ErrChecksum: integrity).
var ErrUnrecoverable = fmt.Errorf("too many volumes lost to rebuild: %w", ErrChecksum)

// paritySet is a split archive with parity volumes, as found on disk,
// checked against what its sidecar and the parity volumes' trailers say
// it should be. Shards 0..k-1 are the data volumes, k..k+N-1 the parity
// volumes.
type paritySet struct {
	base    string
	ref     *parityTrailer           // the set's description every usable parity volume agrees on
	sums    map[string]digest.Digest // the sidecar's, nil without one
	notes   []string                 // what was noticed but does not stop a rebuild
	shards  []shard
	k, n    int
	sidecar string // the sidecar's path, "" without a usable one
	// sidecarDigest is the sha256 of the sidecar's bytes (what a signed
	// transfer names).
	sidecarDigest digest.Digest
}

// shard is one volume of a paritySet.
type shard struct {
	path    string
	size    int64         // expected file size (a parity volume's includes its trailer)
	digest  digest.Digest // expected, "" if unknown (a parity volume without sidecar)
	problem string        // why it cannot be used, "" if it looks fine (not yet hashed)
}

// loadParitySet looks for parity volumes of the volume set base. Without
// any (no base.parP on disk, none in the sidecar) it returns nil, nil. An
// error means the set cannot be described at all: the parity volumes
// disagree and no sidecar says which are right, or none is readable.
func loadParitySet(base string) (*paritySet, error) {
	s := &paritySet{base: base}
	sidecar := base + SidecarSuffix
	sums, sd, err := readSidecarDigest(sidecar)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		s.notes = append(s.notes, fmt.Sprintf("%s unusable (%v); relying on the parity volumes' own lists", sidecar, err))
	default:
		s.sums, s.sidecar, s.sidecarDigest = sums, sidecar, sd
	}
	trailers, problems, listed := s.readTrailers()
	if len(trailers) == 0 && len(problems) == 0 && !listed {
		return nil, nil
	}
	if err := s.pickReference(trailers, problems); err != nil {
		return nil, err
	}
	s.k, s.n = len(s.ref.Volumes), s.ref.Parity
	dir := filepath.Dir(base)
	for _, v := range s.ref.Volumes {
		sh := shard{path: filepath.Join(dir, v.Name), size: v.Size, digest: v.Digest}
		sh.problem = statProblem(sh.path, sh.size)
		s.shards = append(s.shards, sh)
	}
	for p := range s.n {
		sh := shard{path: ParityPath(base, p), digest: s.sums[filepath.Base(ParityPath(base, p))]}
		sh.size = s.ref.ShardSize + int64(len(encodeTrailer(s.ref.withIndex(p))))
		switch t := trailers[p]; {
		case t != nil && !t.sameSet(s.ref):
			sh.problem = "belongs to another export (it lists other data volumes)"
		case problems[p] != "":
			sh.problem = problems[p]
		default:
			sh.problem = statProblem(sh.path, sh.size)
		}
		s.shards = append(s.shards, sh)
	}
	return s, nil
}

// readTrailers reads the trailer of every parity volume on disk, by the
// index in its name: those that parse, and the problems of those unusable
// (unreadable, or holding another index than their name's).
// listed says whether the sidecar names any parity volume.
func (s *paritySet) readTrailers() (map[int]*parityTrailer, map[int]string, bool) {
	trailers, problems := map[int]*parityTrailer{}, map[int]string{}
	listed := false
	for name := range s.sums {
		listed = listed || isParityName(name)
	}
	for p := range MaxParity {
		path := ParityPath(s.base, p)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		t, _, err := openTrailer(path)
		switch {
		case err != nil:
			problems[p] = err.Error()
			continue
		case t.Index != p:
			// Unusable as parity volume p, but it still describes its set.
			problems[p] = fmt.Sprintf("holds parity volume %d, not %d (renamed or copied?)", t.Index, p)
		}
		trailers[p] = t
	}
	return trailers, problems, listed
}

// pickReference chooses the description of the set: with a sidecar, the
// trailer that lists exactly the sidecar's data volumes; without one, the
// one all readable trailers agree on.
func (s *paritySet) pickReference(trailers map[int]*parityTrailer, problems map[int]string) error {
	idx := make([]int, 0, len(trailers))
	for p := range trailers {
		idx = append(idx, p)
	}
	sort.Ints(idx)
	if s.sums != nil {
		for _, p := range idx {
			if s.matchesSidecar(trailers[p]) {
				s.ref = trailers[p]
				return nil
			}
		}
		if len(idx) > 0 {
			return fmt.Errorf("no parity volume of %s belongs to the volumes %s lists (parity from another export?): %s: %w", s.base, s.sidecar, s.describe(idx, trailers, problems), ErrChecksum)
		}
		return fmt.Errorf("no usable parity volume of %s: %s: %w", s.base, s.describe(idx, trailers, problems), ErrUnrecoverable)
	}
	if len(idx) == 0 {
		return fmt.Errorf("no usable parity volume of %s: %s: %w", s.base, s.describe(idx, trailers, problems), ErrUnrecoverable)
	}
	for _, p := range idx[1:] {
		if !trailers[p].sameSet(trailers[idx[0]]) {
			return fmt.Errorf("parity volumes %s and %s list different data volumes and there is no %s to tell which is right: %w",
				ParityPath(s.base, idx[0]), ParityPath(s.base, p), s.base+SidecarSuffix, ErrChecksum)
		}
	}
	s.ref = trailers[idx[0]]
	return nil
}

// matchesSidecar reports whether t lists exactly the data volumes (names
// and digests) the sidecar lists.
func (s *paritySet) matchesSidecar(t *parityTrailer) bool {
	n := 0
	for name := range s.sums {
		if !isParityName(name) {
			n++
		}
	}
	if n != len(t.Volumes) {
		return false
	}
	for _, v := range t.Volumes {
		if s.sums[v.Name] != v.Digest {
			return false
		}
	}
	return true
}

// describe lists the parity volumes found and what is wrong with each.
func (s *paritySet) describe(idx []int, trailers map[int]*parityTrailer, problems map[int]string) string {
	var parts []string
	for p := range MaxParity {
		if msg, bad := problems[p]; bad {
			parts = append(parts, fmt.Sprintf("%s: %s", ParityPath(s.base, p), msg))
		} else if trailers[p] != nil {
			parts = append(parts, fmt.Sprintf("%s lists %d data volumes starting %s", ParityPath(s.base, p), len(trailers[p].Volumes), trailers[p].Volumes[0].Digest))
		}
	}
	if len(parts) == 0 {
		return "none found"
	}
	return strings.Join(parts, "; ")
}

// withIndex is a copy of t as parity volume p carries it.
func (t *parityTrailer) withIndex(p int) *parityTrailer {
	c := *t
	c.Index = p
	return &c
}

// statProblem says why path cannot be a volume of size bytes: missing,
// not a regular file, or the wrong size (truncated, or another file).
func statProblem(path string, size int64) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return fmt.Sprintf("not a regular file (%s)", fsx.FileKind(fi.Mode()))
	case fi.Size() != size:
		return fmt.Sprintf("%d bytes, expected %d (truncated or replaced?)", fi.Size(), size)
	}
	return ""
}

// lost lists the shards with a problem.
func (s *paritySet) lost() []int {
	var out []int
	for i, sh := range s.shards {
		if sh.problem != "" {
			out = append(out, i)
		}
	}
	return out
}

// lostError is ErrUnrecoverable naming every lost volume, or nil when
// the parity volumes can rebuild them.
func (s *paritySet) lostError() error {
	lost := s.lost()
	if len(lost) <= s.n {
		return nil
	}
	return fmt.Errorf("%s: %d volumes lost or damaged, %d parity volumes rebuild at most %d: %s: %w", s.base, len(lost), s.n, s.n, s.describeLost(lost), ErrUnrecoverable)
}

// describeLost names the given shards and their problems.
func (s *paritySet) describeLost(lost []int) string {
	parts := make([]string, len(lost))
	for i, j := range lost {
		parts[i] = fmt.Sprintf("%s (%s)", s.shards[j].path, s.shards[j].problem)
	}
	return strings.Join(parts, ", ")
}

// dataVolumes lists the data volumes' paths in order.
func (s *paritySet) dataVolumes() []string {
	out := make([]string, s.k)
	for j := range out {
		out[j] = s.shards[j].path
	}
	return out
}

// dropParity removes the parity volumes from a sidecar's listing.
func dropParity(sums map[string]digest.Digest) {
	for name := range sums {
		if isParityName(name) {
			delete(sums, name)
		}
	}
}
