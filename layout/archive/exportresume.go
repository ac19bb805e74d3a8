package archive

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
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
// and continues the stream after them. The identity (the archive's
// index.json, every planned blob and its place, the split size, the parity
// count) must match exactly: the tar stream is a function of them. The
// kept bytes are not trusted for being listed in the state (whoever can
// write the state can write the volumes): the stream is produced again in
// full and each kept volume compared with it (dropKept) before anything
// is committed; a volume that differs fails the export, removing the
// kept volumes and the state, so that a re-run starts over. Kept volumes
// are renamed into place by the output rule (fsx.AdoptOutput): a name
// that became a symlink, FIFO or directory is not kept. A state that does not parse, is
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
		say(notify, "resuming an interrupted export: kept %s, read back and checked; continuing at %d bytes", VolumeSpan(v.done[:v.state.kept], "finished volume"), v.skip)
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

// keepOne keeps volume i if its .partial can be adopted as the output of
// its name (fsx.AdoptOutput) and is a regular file of the split size
// whose bytes have the recorded digest (fed to the parity as they are
// read). A volume that fails is removed, and the parity restarted from
// the volumes kept before it.
func (v *VolumeWriter) keepOne(i int, vol Volume) (bool, string, error) {
	name := v.name(i)
	if vol.Path != filepath.Base(name) || vol.Size != v.split {
		return false, fmt.Sprintf("it lists %s (%d bytes) as volume %d", vol.Path, vol.Size, i), nil
	}
	part := name + partialSuffix
	out, err := fsx.AdoptOutput(name, fsx.OutputOptions{FilesOnlyWhy: splitNeedsFiles, Check: v.check})
	var got digest.Digest
	if err == nil {
		if got, err = v.readKept(i, out.File()); err == nil && got == vol.Digest {
			v.done = append(v.done, Volume{Path: name, Size: vol.Size, Digest: vol.Digest})
			v.keptOuts = append(v.keptOuts, out)
			return true, "", nil
		}
		out.Abort()
	}
	reason := fmt.Sprintf("%s is %s, it recorded %s", part, got, vol.Digest)
	if err != nil {
		reason = fmt.Sprintf("%s: %v", part, err)
	}
	removeFile(part)
	return false, reason, v.restartParity()
}

// readKept reads a kept volume from its start, hashing it and feeding it
// to the parity.
func (v *VolumeWriter) readKept(i int, f *os.File) (digest.Digest, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Size() != v.split {
		return "", fmt.Errorf("not a regular file of %d bytes", v.split)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
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
	for i, out := range v.keptOuts {
		if _, err := v.readKept(i, out.File()); err != nil {
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
// returns how many. They are not written but compared: hashed volume by
// volume, each kept volume must have the digest of the stream's bytes it
// stands for, or the export fails (ErrChecksum) before anything is
// committed.
func (v *VolumeWriter) dropKept(p *[]byte) (int, error) {
	k := min(int64(len(*p)), v.skip)
	for b := (*p)[:k]; len(b) > 0; {
		if v.keptHash == nil {
			v.keptHash = sha256.New()
		}
		c := b[:min(int64(len(b)), v.split-v.keptN)]
		v.keptHash.Write(c)
		v.keptN += int64(len(c))
		b = b[len(c):]
		if v.keptN == v.split {
			got, kept := digest.NewDigest(digest.SHA256, v.keptHash), v.done[v.keptIdx]
			if got != kept.Digest {
				return 0, fmt.Errorf("%w: %s, kept from an interrupted export as %s, is not what this export writes there (%s): the resume state %s vouched for other bytes; the kept volumes and the state are removed, run the export again",
					ErrChecksum, kept.Path+partialSuffix, kept.Digest, got, v.state.path)
			}
			v.keptHash, v.keptN = nil, 0
			v.keptIdx++
		}
	}
	v.skip -= k
	*p = (*p)[k:]
	return int(k), nil
}

// commitKept renames the volumes kept from an interrupted run to their
// final names by the output rule (Commit, before this run's; the
// sidecar's commit fsyncs their directory).
func (v *VolumeWriter) commitKept() error {
	for _, out := range v.keptOuts {
		if err := out.Commit(); err != nil {
			return err
		}
		v.published = append(v.published, out.Final())
	}
	return nil
}

// removeKept removes the volumes kept from an interrupted run and the
// state (Abort: the export failed for good).
func (v *VolumeWriter) removeKept() error {
	var errs []error
	for _, out := range v.keptOuts {
		errs = append(errs, out.Abort())
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

// ExportFile with context: exportFile runs the export into v and commits
// it, suspending it (kept for a re-run) when ctx was cancelled.
func exportFile(ctx context.Context, l *layout.Layout, v *VolumeWriter, p *exportPlan, o ExportOptions) (*ExportResult, []Volume, error) {
	res, err := p.export(ctx, l, v, o)
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
