package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// An export to split volumes records, as each volume is finished (fsynced,
// still FILE.NNN.partial), the volumes finished so far in FILE.resume.partial
// beside them (writeHint: not fsynced, every use checks it), with the identity of what is being exported. Interrupted —
// killed, or cancelled (then the volume being written is removed, the
// finished ones kept) — the same export run again keeps those volumes,
// after reading each back and checking it against its recorded digest,
// and continues the stream after them: blobs that lie wholly in the kept
// volumes are not read again. The identity (the archive's index.json,
// every planned blob and its place, the split size, the parity count) must
// match exactly: the tar stream is a function of them, so the kept bytes
// are the bytes this export would write. A state that does not parse, is
// not a regular file, names another export, or lists a volume that is
// gone, changed or not regular is not used (the notice says why); only
// volumes before the first such one are kept. Compressed exports do not
// resume (a compressor's state is not saved).
const (
	exportStateSuffix = ".resume.partial" // .partial: a killed export leaves nothing else
	exportStateFormat = "oci-pack-export-resume/v1"
	maxExportState    = 1 << 20
)

// exportState is FILE.resume.partial (JSON).
type exportState struct {
	Format  string        `json:"format"`
	Plan    digest.Digest `json:"plan"`
	Split   int64         `json:"split"`
	Parity  int           `json:"parity"`
	Volumes []Volume      `json:"volumes"` // finished, by base name
	path    string
	kept    int // volumes kept from an interrupted run
}

// planIdentity digests everything the tar stream of p depends on.
func planIdentity(p *exportPlan, split int64, parity int) digest.Digest {
	type blob struct {
		Digest digest.Digest `json:"d"`
		Size   int64         `json:"s"`
		Mark   bool          `json:"m,omitempty"`
	}
	v := struct {
		Format string        `json:"format"`
		Index  digest.Digest `json:"index"`
		Blobs  []blob        `json:"blobs"`
		Split  int64         `json:"split"`
		Parity int           `json:"parity"`
	}{Format: exportStateFormat, Index: digest.FromBytes(mustMarshal(p.index)), Split: split, Parity: parity}
	for _, b := range p.blobs {
		v.Blobs = append(v.Blobs, blob{b.desc.Digest, b.desc.Size, b.mark})
	}
	return digest.FromBytes(mustMarshal(v))
}

// createVolumesFor starts the volume writer of an export of p: with
// parity if asked, and — for a split, uncompressed export — keeping the
// volumes an interrupted run of the same export finished (see above).
func createVolumesFor(path string, split int64, check func(string) error, p *exportPlan, o ExportOptions) (*VolumeWriter, error) {
	v, err := newVolumeWriter(path, split, check)
	if err != nil {
		return nil, err
	}
	if err := v.SetParity(o.Parity); err != nil {
		return nil, err
	}
	if v.parity != nil && (o.Compression == "" || o.Compression == compress.None) {
		v.parity.Expect(p.tarSize(len(mustMarshal(p.index))), split)
	}
	if split > 0 && (o.Compression == "" || o.Compression == compress.None) {
		v.state = &exportState{Format: exportStateFormat, Plan: planIdentity(p, split, o.Parity), Split: split, Parity: o.Parity, path: path + exportStateSuffix}
		if err := v.keepFinished(o.Notify); err != nil {
			v.Abort()
			return nil, err
		}
	}
	if err := v.open(); err != nil {
		v.Abort()
		return nil, err
	}
	return v, nil
}

// keepFinished keeps the volumes an interrupted run of this export
// finished, each read back and checked, and feeds them to the parity.
func (v *VolumeWriter) keepFinished(notify func(string)) error {
	old, why := readExportState(v.state.path)
	switch {
	case old == nil && why == "":
		return nil
	case old == nil:
	case old.Plan != v.state.Plan || old.Split != v.state.Split || old.Parity != v.state.Parity:
		why = "it is for another export (other refs, layout contents, split size or parity)"
	default:
		for i, vol := range old.Volumes {
			if ok, reason, err := v.keepOne(i, vol); err != nil {
				return err
			} else if !ok {
				why = reason
				break
			}
		}
	}
	if why != "" {
		say(notify, "%s: not kept from an interrupted export: %s", v.state.path, why)
	}
	if v.state.kept = len(v.done); v.state.kept > 0 {
		v.skip = int64(v.state.kept) * v.split
		say(notify, "resuming an interrupted export: kept %d finished volume(s) %s … %s, read back and checked; continuing at %d bytes", v.state.kept, v.done[0].Path, v.done[v.state.kept-1].Path, v.skip)
	}
	return nil
}

// readExportState reads path; (nil, "") when there is none, (nil, why)
// when it cannot be used.
func readExportState(path string) (*exportState, string) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	if err != nil {
		return nil, err.Error()
	}
	if !fi.Mode().IsRegular() {
		return nil, "not a regular file"
	}
	f, err := openRegularPath(path)
	if err != nil {
		return nil, err.Error()
	}
	defer f.Close()
	b, err := strictjson.ReadAll(f, maxExportState)
	if err != nil {
		return nil, err.Error()
	}
	var st exportState
	if err := strictjson.Unmarshal(b, &st); err != nil {
		return nil, err.Error()
	}
	if st.Format != exportStateFormat || len(st.Volumes) >= MaxVolumes {
		return nil, fmt.Sprintf("format %q with %d volumes, expected %q", st.Format, len(st.Volumes), exportStateFormat)
	}
	return &st, ""
}

// keepOne keeps volume i if its .partial is a regular file of the split
// size whose bytes have the recorded digest (fed to the parity as they
// are read). A volume that fails is removed, and the parity restarted
// from the volumes kept before it.
func (v *VolumeWriter) keepOne(i int, vol Volume) (bool, string, error) {
	name := v.name(i)
	if vol.Path != filepath.Base(name) || vol.Size != v.split {
		return false, fmt.Sprintf("it lists %s (%d bytes) as volume %d", vol.Path, vol.Size, i), nil
	}
	part := name + partialSuffix
	got, err := v.readKept(i, part)
	if err == nil && got == vol.Digest {
		v.done = append(v.done, Volume{Path: name, Size: vol.Size, Digest: vol.Digest})
		return true, "", nil
	}
	reason := fmt.Sprintf("%s is %s, it recorded %s", part, got, vol.Digest)
	if err != nil {
		reason = fmt.Sprintf("%s: %v", part, err)
	}
	removeFile(part)
	return false, reason, v.restartParity()
}

// readKept reads a kept volume, hashing it and feeding it to the parity.
func (v *VolumeWriter) readKept(i int, part string) (digest.Digest, error) {
	fi, err := os.Lstat(part)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Size() != v.split {
		return "", fmt.Errorf("not a regular file of %d bytes", v.split)
	}
	f, err := openRegularPath(part)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, copyBufferSize)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if v.parity != nil && n > 0 {
			if perr := v.parity.Feed(i, buf[:n]); perr != nil {
				return "", perr
			}
		}
		if err == io.EOF {
			return digest.NewDigest(digest.SHA256, h), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// restartParity starts the parity over with the volumes kept so far
// (after a volume that failed its check had been fed to it).
func (v *VolumeWriter) restartParity() error {
	if v.parity == nil {
		return nil
	}
	n := v.parity.n
	v.parity.Abort()
	p, err := CreateParity(v.path, n, v.check)
	if err != nil {
		v.parity = nil
		return err
	}
	v.parity = p
	for i := range v.done {
		if _, err := v.readKept(i, v.name(i)+partialSuffix); err != nil {
			return err
		}
	}
	return nil
}

// finished records the volumes finished so far (nil-safe). A state that
// cannot be written only costs the resume: the export goes on.
func (s *exportState) finished(done []Volume) {
	if s == nil {
		return
	}
	s.Volumes = s.Volumes[:0]
	for _, d := range done {
		s.Volumes = append(s.Volumes, Volume{Path: filepath.Base(d.Path), Size: d.Size, Digest: d.Digest})
	}
	writeHint(s.path, mustMarshal(s))
}

// writeHint replaces the file at path with b: the old file (a regular
// file or a symlink, never followed) is removed and a new one created
// with O_EXCL, which never follows a link; no temp file, no fsync. It is
// for a state every use checks (a torn one does not parse, a lost one
// only costs the resume), so recording it costs no flush of the disk.
func writeHint(path string, b []byte) error {
	if err := removeFile(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// remove forgets the state (the export was committed or aborted).
func (s *exportState) remove() {
	if s != nil {
		removeFile(s.path)
	}
}

// dropKept drops the bytes of p the kept volumes already hold, and
// returns how many.
func (v *VolumeWriter) dropKept(p *[]byte) int {
	k := min(int64(len(*p)), v.skip)
	v.skip -= k
	*p = (*p)[k:]
	return int(k)
}

// commitKept renames the volumes kept from an interrupted run to their
// final names (Commit, before this run's; the sidecar's commit fsyncs
// their directory).
func (v *VolumeWriter) commitKept() error {
	if v.state == nil {
		return nil
	}
	for i := range v.state.kept {
		if err := os.Rename(v.name(i)+partialSuffix, v.name(i)); err != nil {
			return fmt.Errorf("rename %s: %w", v.name(i)+partialSuffix, err)
		}
		v.published = append(v.published, v.name(i))
	}
	return nil
}

// removeKept removes the volumes kept from an interrupted run and the
// state (Abort: the export failed for good).
func (v *VolumeWriter) removeKept() error {
	if v.state == nil {
		return nil
	}
	var errs []error
	for i := range v.state.kept {
		errs = append(errs, removeFile(v.name(i)+partialSuffix))
	}
	v.state.remove()
	return errors.Join(errs...)
}

// Suspend stops an export that was interrupted: the volume being written
// and the parity volumes are removed, the finished volumes and the state
// that lists them are kept for the same export to resume. Without a state
// (one file, compression) it is Abort.
func (v *VolumeWriter) Suspend() error {
	if v.state == nil || len(v.done) == 0 {
		return v.Abort()
	}
	if v.cur != nil {
		v.h.Close()
		v.cur.Abort() // the volume being written; the finished ones stay
		v.cur = nil
	}
	if v.parity != nil {
		v.parity.Abort()
	}
	v.err = errors.New("volumes suspended")
	return nil
}

// kept is where the bytes a resumed export kept end in the stream cw
// counts (skip 0: nothing kept).
type kept struct {
	cw   *countingWriter
	skip int64
}

// skipBlob writes blob b's header and zeros for its bytes when they end
// before k.skip: a resumed export kept them, and the volume writer drops
// them. Blobs whose bytes are needed otherwise (a raw twin whose recipes
// are checked as it streams) are never skipped: writeBlob passes no
// tee to skip.
func (k kept) skipBlob(tw *tar.Writer, b planned, name string) (bool, error) {
	if k.skip == 0 {
		return false, nil
	}
	// Its data starts one header block on, or three with a PAX header
	// (a mark, a size of 8 GiB or more): zeros only when even the later
	// start ends inside the kept bytes.
	if k.cw.n+3*blockSize+b.desc.Size > k.skip {
		return false, nil
	}
	h := withMark(header(tar.TypeReg, name, b.desc.Size), b)
	if err := tw.WriteHeader(h); err != nil {
		return true, fmt.Errorf("write archive entry %q: %w", name, err)
	}
	if _, err := io.CopyN(tw, zeros{}, b.desc.Size); err != nil {
		return true, fmt.Errorf("write archive entry %q: %w", name, err)
	}
	return true, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// ExportFile with context: exportFile runs the export into v and commits
// it, suspending it (kept for a re-run) when ctx was cancelled.
func exportFile(ctx context.Context, l *layout.Layout, v *VolumeWriter, p *exportPlan, o ExportOptions) (*ExportResult, []Volume, error) {
	skip := v.skip
	res, err := p.exportFrom(ctx, l, v, o, skip)
	var written []Volume
	if err == nil {
		written, err = v.Commit()
	}
	if err != nil {
		if ctx.Err() != nil {
			v.Suspend()
		} else {
			v.Abort()
		}
		return nil, nil, err
	}
	res.Parity = v.ParityVolumes()
	if v.state != nil {
		res.Kept = v.state.kept
	}
	res.Sidecar = v.Sidecar()
	layout.NotifyCommitted(ctx)
	return res, written, nil
}
