package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/layout"
)

// openVolumeSet opens one archive given to import. A volume set with
// parity volumes is described by loadParitySet first: when some of its
// data volumes are missing, of the wrong size or not regular files, but
// no more than its parity volumes can rebuild, the reader is set up over
// the set's volumes as its parity volumes list them, and the set is
// returned so that Import rebuilds them once the layout is open. Parity
// that cannot be used is no obstacle while the data volumes are whole: a
// notice says so.
func openVolumeSet(group []string, notify func(string)) (*VolumeReader, *paritySet, error) {
	m := volumeName.FindStringSubmatch(group[0])
	if m == nil {
		vr, err := OpenVolumes(group)
		return vr, nil, err
	}
	ps, perr := loadParitySet(m[1])
	if ps == nil && perr == nil {
		vr, err := OpenVolumes(group)
		return vr, nil, err
	}
	if perr != nil {
		vr, err := OpenVolumes(group)
		if err != nil {
			return nil, nil, fmt.Errorf("%w; and the parity volumes cannot rebuild it: %w", err, perr)
		}
		say(notify, "parity volumes of %s unusable (%v); importing without them", m[1], perr)
		return vr, nil, nil
	}
	for _, n := range ps.notes {
		say(notify, "%s", n)
	}
	if len(ps.lostData()) == 0 {
		for _, i := range ps.lost() {
			say(notify, "parity volume %s %s; the other parity volumes still protect the set", ps.shards[i].path, ps.shards[i].problem)
		}
		vr, err := OpenVolumes(group)
		return vr, ps, err
	}
	if err := ps.lostError(); err != nil {
		return nil, nil, err
	}
	for _, g := range group {
		if mm := volumeName.FindStringSubmatch(g); mm == nil || filepath.Clean(mm[1]) != filepath.Clean(m[1]) {
			return nil, nil, fmt.Errorf("%w: %s is not a volume of %s: give %s alone (the others are found by name)", layout.ErrInvalidArgument, g, m[1], volumePath(m[1], 0))
		}
	}
	return ps.reader(nil), ps, nil
}

func say(notify func(string), format string, args ...any) {
	if notify != nil {
		notify(fmt.Sprintf(format, args...))
	}
}

// lostData lists the lost data volumes.
func (s *paritySet) lostData() []int {
	var out []int
	for _, i := range s.lost() {
		if i < s.k {
			out = append(out, i)
		}
	}
	return out
}

// reader reads the set's data volumes, those in subst from where they
// were rebuilt, each checked against its digest at its end.
func (s *paritySet) reader(subst map[int]string) *VolumeReader {
	v := &VolumeReader{sums: map[string]digest.Digest{}, sidecar: s.sidecar, sidecarDigest: s.sidecarDigest, want: s.base + SidecarSuffix}
	if v.sidecar == "" {
		v.sidecar = ParityPath(s.base, 0) // where the digests come from, for messages
	}
	for j, p := range s.dataVolumes() {
		if q, ok := subst[j]; ok {
			p = q // same base name: the digest is looked up by it
		}
		v.paths = append(v.paths, p) // named 0: each opened only as a regular file
		v.regular = append(v.regular, true)
		v.sums[s.ref.Volumes[j].Name] = s.ref.Volumes[j].Digest
		v.size += s.ref.Volumes[j].Size
	}
	return v
}

// importSets imports the archives as Archives.Import describes, first
// rebuilding lost data volumes of sets with parity into the layout's
// staging (removed with it), and — for a single archive — rebuilding and
// retrying when a volume turns out corrupted while it is read.
func (a *Archives) importSets(ctx context.Context, l *layout.Layout, o ImportOptions) (*ImportResult, error) {
	subst := make([]map[int]string, len(a.sets))
	var rebuilt []string
	for i, ps := range a.parity {
		if ps == nil || len(ps.lostData()) == 0 {
			continue
		}
		subst[i] = map[int]string{}
		done, err := ps.rebuildInto(ctx, l, subst[i])
		if err != nil {
			return nil, err
		}
		rebuilt = append(rebuilt, done...)
		a.reset(i, ps.reader(subst[i]))
	}
	for {
		res, err := ImportAll(ctx, l, a.srcs, o)
		if err == nil {
			res.RebuiltVolumes = rebuilt
			return res, nil
		}
		if len(a.sets) != 1 {
			return nil, err
		}
		err = sidecarFirst(err, a.sets[0])
		ps := a.parity[0]
		if ps == nil || !errors.Is(err, ErrChecksum) || len(a.sets[0].corrupt) == 0 {
			return nil, err
		}
		for _, j := range a.sets[0].corrupt {
			ps.shards[j].problem = "corrupted (its digest did not match while importing)"
		}
		if lerr := ps.lostError(); lerr != nil {
			return nil, fmt.Errorf("%w (the import stopped with: %v)", lerr, err)
		}
		if subst[0] == nil {
			subst[0] = map[int]string{}
		}
		done, rerr := ps.rebuildInto(ctx, l, subst[0])
		if rerr != nil {
			return nil, rerr
		}
		rebuilt = append(rebuilt, done...)
		if o.Notify != nil {
			o.Notify(fmt.Sprintf("%v; rebuilt from parity, importing again (blobs already stored are skipped)", err))
		}
		a.reset(0, ps.reader(subst[0]))
	}
}

// reset makes set i read from vr.
func (a *Archives) reset(i int, vr *VolumeReader) {
	a.sets[i].Close()
	a.sets[i] = vr
	a.srcs[i].R, a.srcs[i].Size, a.srcs[i].Verify = vr, vr.Size(), vr.Finish
	first := vr.paths[0]
	if old := a.srcs[i].Resume; old != nil {
		first = old.abs // the same state, whichever volumes were rebuilt
	}
	a.srcs[i].Resume = newResumer(first, vr)
}

// rebuildInto rebuilds the lost data volumes not yet in subst into the
// layout's staging and records where each went. It returns them, with
// why ("FILE.003 (missing)"). A volume read during the rebuild that turns
// out corrupted is marked lost and the rebuild is tried again, as long as
// the parity volumes suffice.
func (s *paritySet) rebuildInto(ctx context.Context, l *layout.Layout, subst map[int]string) ([]string, error) {
	if l.StagingDir() == "" {
		return nil, errors.New("rebuilding volumes needs a writable layout")
	}
	dir := path.Join(l.StagingDir(), "rebuild")
	if err := l.Root().Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	for {
		if err := s.lostError(); err != nil {
			return nil, err
		}
		var outs []rebuildOut
		var need int64
		for _, j := range s.lostData() {
			if _, done := subst[j]; !done {
				outs = append(outs, rebuildOut{shard: j})
				need += s.ref.Volumes[j].Size
			}
		}
		if err := checkFree(l.Dir(), need); err != nil {
			return nil, err
		}
		closeAll := func() {
			for _, o := range outs {
				if o.f != nil {
					o.f.Close()
				}
			}
		}
		for k := range outs {
			rel := path.Join(dir, s.ref.Volumes[outs[k].shard].Name)
			l.Root().Remove(rel)
			f, err := l.Root().OpenFile(rel, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("scratch space for rebuilding: %w", err)
			}
			outs[k].f = f
		}
		_, bad, err := s.rebuild(ctx, outs, false)
		closeAll()
		if err != nil {
			return nil, err
		}
		if len(bad) > 0 {
			continue
		}
		var done []string
		for _, o := range outs {
			subst[o.shard] = filepath.Join(l.Dir(), dir, s.ref.Volumes[o.shard].Name)
			done = append(done, fmt.Sprintf("%s (%s)", s.ref.Volumes[o.shard].Name, s.shards[o.shard].problem))
		}
		return done, nil
	}
}
