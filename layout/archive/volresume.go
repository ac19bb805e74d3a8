package archive

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
)

// volResume is where a resumed import picks up checking volumes against
// the sidecar: volume vol's hash in state st after its first pos bytes
// (st nil: a fresh hash). Volumes before vol were checked when the state
// was saved. vol < 0: there is no sidecar.
type volResume struct {
	Vol   int    `json:"vol"`
	Pos   int64  `json:"pos"`
	State []byte `json:"state,omitempty"`
}

// startHash starts hashing the volume just opened, unless a resume point
// says it was checked already or its hash is restored further on.
func (v *VolumeReader) startHash() {
	v.pos, v.h = 0, nil
	if v.sums == nil || v.resume != nil && v.i <= v.resume.Vol {
		v.restoreDue(v.i)
		return
	}
	v.h = cas.NewAsyncHash(digest.SHA256)
}

// hashRead hashes b, the next bytes of the current volume, from the
// resume point on.
func (v *VolumeReader) hashRead(b []byte) {
	if r := v.resume; r != nil && v.i == r.Vol {
		k := min(int64(len(b)), max(r.Pos-v.pos, 0))
		v.pos += k
		b = b[k:]
		v.restoreDue(v.i)
	}
	if v.h != nil {
		v.h.Write(b)
	}
	v.pos += int64(len(b))
}

// restoreDue restores the hash of volume i once reading has reached its
// resume point.
func (v *VolumeReader) restoreDue(i int) {
	r := v.resume
	if r == nil || i != r.Vol || v.pos < r.Pos {
		return
	}
	v.resume = nil
	if r.State == nil {
		v.h = cas.NewAsyncHash(digest.SHA256)
		return
	}
	h, err := cas.RestoreAsyncHash(digest.SHA256, r.State)
	if err != nil {
		// seekTo restored it once already: cannot happen.
		panic(fmt.Sprintf("restore a hash state that restored before: %v", err))
	}
	v.h = h
}

// hashPoint is where checking stands now, for a checkpoint.
func (v *VolumeReader) hashPoint() (volResume, error) {
	switch {
	case v.sums == nil:
		return volResume{Vol: -1}, nil
	case v.resume != nil:
		return *v.resume, nil // not reached yet: still where it was
	case v.f == nil || v.h == nil:
		return volResume{Vol: v.i}, nil // the next volume, not yet opened
	}
	st, err := v.h.State()
	return volResume{Vol: v.i, Pos: v.pos, State: st}, err
}

// seekTo positions v at offset off of the whole archive for a resumed
// import, hashing from r on (see volResume). Every volume must be a
// regular file of the size it had when the state was saved (the caller
// checked), and r must lie at or after off.
func (v *VolumeReader) seekTo(off int64, r volResume) error {
	if v.f != nil || v.i != 0 {
		return fmt.Errorf("reader already in use")
	}
	var start int64
	i := 0
	sizes := make([]int64, len(v.paths))
	for j, p := range v.paths {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		sizes[j] = fi.Size()
	}
	// The first volume that reaches off: at a boundary, the one that ends
	// there (read from its end, its check completes first).
	for i < len(sizes)-1 && off > start+sizes[i] {
		start += sizes[i]
		i++
	}
	if off < 0 || len(sizes) == 0 || off > start+sizes[i] {
		return fmt.Errorf("offset %d is beyond the archive", off)
	}
	if v.sums != nil {
		if r.Vol < i || r.Vol >= len(sizes) || r.Pos < 0 || r.Pos > sizes[r.Vol] || r.Vol == i && r.Pos < off-start {
			return fmt.Errorf("checksum position %d:%d does not follow offset %d", r.Vol, r.Pos, off)
		}
		if r.State != nil {
			h, err := cas.RestoreAsyncHash(digest.SHA256, r.State)
			if err != nil {
				return fmt.Errorf("volume checksum %w", err)
			}
			h.Close()
		}
		v.resume = &r
	}
	v.i = i
	if err := v.open(); err != nil {
		return err
	}
	if _, err := v.f.Seek(off-start, io.SeekStart); err != nil {
		return err
	}
	v.r = fsx.LimitReader(v.f, sizes[i]-(off-start), v.paths[i])
	v.pos = off - start
	v.restoreDue(i)
	return nil
}

// rewind puts v back before its first byte, for seekTo again.
func (v *VolumeReader) rewind() {
	v.Close()
	v.i, v.pos, v.resume, v.err, v.corrupt, v.r = 0, 0, nil, nil, nil, nil
}

// identity describes the volumes as they are now, for a resume state.
func (v *VolumeReader) identity() ([]volumeID, error) {
	ids := make([]volumeID, len(v.paths))
	for i, p := range v.paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", p)
		}
		ids[i] = volumeID{Name: filepath.Base(p), Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
		if v.sums != nil {
			ids[i].Digest = v.sums[ids[i].Name]
		}
	}
	return ids, nil
}

// volumeID is one volume as a resume state records it.
type volumeID struct {
	Name    string        `json:"name"`
	Size    int64         `json:"size"`
	ModTime int64         `json:"mtime"`
	Digest  digest.Digest `json:"digest,omitempty"` // the sidecar's, if any
}
