package archive

import (
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
)

// MaxVolumes bounds a split export: volume names have three digits, so
// `cat FILE.0*`-style globs keep them in order.
const MaxVolumes = 1000

// partialSuffix marks a file still being written.
const partialSuffix = fsx.PartialSuffix

// Volume is one file of a finished export.
type Volume struct {
	Path   string        `json:"path"`
	Size   int64         `json:"size"`
	Digest digest.Digest `json:"digest"`
}

// VolumeWriter writes one stream to a file, or with a split size to
// consecutive volumes FILE.000, FILE.001, … of at most that many bytes,
// each hashed as it is written (on another goroutine) for the sidecar.
// Every file goes through fsx.CreateOutput (RELIABILITY I13): a regular
// file (or nothing) is written as NAME.partial and made final by Commit;
// a single output that is a FIFO or a character device is streamed to
// (no sidecar then); a symlink is followed to a regular file; anything
// else is refused, wrapping fsx.ErrBadOutput.
type VolumeWriter struct {
	path  string
	split int64 // 0: one file
	check func(final string) error
	done  []Volume
	outs  []*fsx.Output // every volume, for Commit and Abort
	cur   *fsx.Output
	w     fsx.WritebackFile // writes to cur, starting writeback as it goes
	h     *cas.AsyncHash
	n     int64  // bytes in the current volume
	err   error  // sticky
	side  string // the sidecar written by Commit ("" for a stream)
	// published are final names Commit renamed into place: an
	// incomplete set that Abort removes after a failed Commit.
	published []string
	// keepSignature: a new signature will replace FILE.sigstore.json
	// (ExportOptions.Signed); Commit leaves it for that.
	keepSignature bool
	// parity, if not nil, computes parity volumes as the stream is
	// written (SetParity).
	parity *ParityWriter
	// skip is how many more bytes of the stream to drop: those of the
	// volumes a resumed export kept (exportresume.go).
	skip int64
	// state, if not nil, records each finished volume for a resumed
	// export.
	state *exportState
	// keptOuts are the volumes kept from an interrupted run, adopted as
	// outputs; keptHash, keptN and keptIdx compare them with the stream
	// (dropKept).
	keptOuts []*fsx.Output
	keptHash hash.Hash
	keptN    int64
	keptIdx  int
}

// splitNeedsFiles is why a split export refuses a stream at a volume's
// name.
const splitNeedsFiles = "split volumes are written as files: each is renamed into place only when the whole set is complete, " +
	"and the sidecar lists each by its digest; a stream cannot be either (export without --split-size to stream)"

// CreateVolumes starts writing path (split == 0) or its volumes.
func CreateVolumes(path string, split int64) (*VolumeWriter, error) {
	return createVolumes(path, split, nil)
}

// createVolumes is CreateVolumes with check called on every path a
// volume reaches (a symlink's target) before it is created.
func createVolumes(path string, split int64, check func(string) error) (*VolumeWriter, error) {
	v, err := newVolumeWriter(path, split, check)
	if err != nil {
		return nil, err
	}
	if err := v.open(); err != nil {
		return nil, err
	}
	return v, nil
}

// newVolumeWriter checks the arguments; nothing is created yet.
func newVolumeWriter(path string, split int64, check func(string) error) (*VolumeWriter, error) {
	if split < 0 {
		return nil, fmt.Errorf("split size %d: must not be negative", split)
	}
	return &VolumeWriter{path: path, split: split, check: check}, nil
}

// name is the name of volume i.
func (v *VolumeWriter) name(i int) string {
	if v.split == 0 {
		return v.path
	}
	return fmt.Sprintf("%s.%03d", v.path, i)
}

func (v *VolumeWriter) open() error {
	i := len(v.done)
	if i >= MaxVolumes {
		return fmt.Errorf("%s: more than %d volumes; use a larger split size", v.path, MaxVolumes)
	}
	o := fsx.OutputOptions{Check: v.check}
	if v.split > 0 {
		o.FilesOnly, o.FilesOnlyWhy = true, splitNeedsFiles
	}
	out, err := fsx.CreateOutput(v.name(i), o)
	if err != nil {
		return err
	}
	v.outs = append(v.outs, out)
	v.cur, v.w, v.h, v.n = out, fsx.WritebackFile{F: out.File()}, cas.NewAsyncHash(digest.SHA256), 0
	return nil
}

// Write writes p, starting a new volume whenever the current one is full.
func (v *VolumeWriter) Write(p []byte) (int, error) {
	written, err := v.dropKept(&p)
	if err != nil {
		v.err = err
		return written, err
	}
	for len(p) > 0 && v.err == nil {
		if v.split > 0 && v.n == v.split {
			if v.err = v.finish(); v.err == nil {
				v.err = v.open()
			}
			continue
		}
		chunk := p
		if v.split > 0 && int64(len(chunk)) > v.split-v.n {
			chunk = chunk[:v.split-v.n]
		}
		n, err := v.w.Write(chunk)
		v.h.Write(chunk[:n])
		if v.parity != nil && err == nil {
			err = v.parity.Feed(len(v.done), chunk[:n])
		}
		v.n += int64(n)
		written += n
		p = p[n:]
		if err != nil {
			v.err = fmt.Errorf("export volume: %w", err) // err names the file
		}
	}
	return written, v.err
}

// finish fsyncs and closes the current volume and records its digest.
func (v *VolumeWriter) finish() error {
	out, h := v.cur, v.h
	v.cur, v.h = nil, nil
	sum := h.Sum()
	if err := out.Close(); err != nil {
		return err
	}
	path := v.name(len(v.done))
	if v.split == 0 {
		path = out.Final() // a symlink's target: what the sidecar checks
	}
	v.done = append(v.done, Volume{Path: path, Size: v.n, Digest: sum})
	v.state.finished(v.done)
	return nil
}

// Commit finishes the last volume, renames every volume from .partial to
// its final name, removes volumes left over from an earlier, longer
// export to the same name, and writes the sidecar FILE.sha256 (through
// the same output rule) listing every volume in `sha256sum -c` format.
// An old sidecar that is a regular file is removed first, so a crash in
// between leaves volumes without a sidecar, never a sidecar that lies;
// so is the signature of an earlier signed export beside it
// (FILE.sigstore.json, a regular file), which vouched for another sidecar,
// unless a new one is to replace it (keepSignature).
// Nothing is reported as written before the final directory fsync. A
// single output streamed to a FIFO or device gets no sidecar.
func (v *VolumeWriter) Commit() ([]Volume, error) {
	if v.err != nil {
		return nil, v.err
	}
	if err := v.finish(); err != nil {
		v.err = err
		return nil, err
	}
	if v.split == 0 && v.outs[0].Streamed() {
		if err := v.outs[0].Commit(); err != nil {
			v.err = err
			return nil, err
		}
		v.err = errors.New("volumes already committed")
		return v.done, nil
	}
	listed, err := v.finishParity()
	if err != nil {
		v.err = err
		return nil, err
	}
	sidecar := v.path + SidecarSuffix
	if v.split == 0 {
		sidecar = v.outs[0].Final() + SidecarSuffix
	}
	side, err := fsx.CreateOutput(sidecar, fsx.OutputOptions{Unnamed: true, Check: v.check})
	if err != nil {
		return nil, err
	}
	if side.Replaces() {
		if err := os.Remove(side.Final()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			side.Abort()
			return nil, fmt.Errorf("remove the old %s: %w", side.Final(), err)
		}
	}
	if !v.keepSignature {
		if err := removeStaleSignature(side.Final()); err != nil {
			side.Abort()
			return nil, err
		}
	}
	if err := v.commitKept(); err != nil {
		side.Abort()
		return nil, err
	}
	for _, out := range v.outs {
		if err := out.Commit(); err != nil {
			side.Abort()
			return nil, err
		}
		// Only now is the final name ours to remove on Abort: before the
		// rename it may be the user's (an earlier export, a directory).
		v.published = append(v.published, out.Final())
	}
	if v.split > 0 {
		if err := removeStaleVolumes(v.path, len(v.done)); err != nil {
			side.Abort()
			return nil, err
		}
		if err := v.commitParity(); err != nil {
			side.Abort()
			return nil, err
		}
	}
	if _, err := side.Write(formatSidecar(listed)); err != nil {
		side.Abort()
		return nil, fmt.Errorf("write %s: %w", side.Final(), err)
	}
	if err := side.Commit(); err != nil {
		return nil, err
	}
	if !side.Streamed() {
		v.side = side.Final()
	}
	v.state.remove()
	v.err = errors.New("volumes already committed")
	return v.done, nil
}

// removeStaleSignature removes the signed-transfer bundle beside sidecar
// (FILE.sigstore.json) if it is a regular file: it vouched for the sidecar
// an earlier export wrote. Anything else there is left as it is (a stale
// bundle reached through it only makes import --require-signature refuse
// the transfer).
func removeStaleSignature(sidecar string) error {
	p := strings.TrimSuffix(sidecar, SidecarSuffix) + SignatureSuffix
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the stale signature %s: %w", p, err)
	}
	return nil
}

// removeStaleVolumes removes FILE.NNN from volume n up to the first gap:
// what an earlier, longer export to the same name left. Only regular
// files and symlinks (the link itself) are removed; anything else at a
// volume's name stops the sweep and is left as it is.
func removeStaleVolumes(path string, n int) error {
	for i := n; i < MaxVolumes; i++ {
		p := fmt.Sprintf("%s.%03d", path, i)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0) {
			return nil
		}
		if err == nil {
			err = os.Remove(p)
		}
		if err != nil {
			return fmt.Errorf("remove stale volume: %w", err)
		}
	}
	return nil
}

// Sidecar is the checksum file Commit wrote ("" before Commit, and for a
// stream).
func (v *VolumeWriter) Sidecar() string { return v.side }

// Abort removes every .partial written and, after a failed Commit, the
// volumes it had renamed: they are an incomplete set. It must not be
// called after a successful Commit.
func (v *VolumeWriter) Abort() error {
	if v.cur != nil {
		v.h.Sum()
		v.cur = nil
	}
	var errs []error
	for _, out := range v.outs {
		errs = append(errs, out.Abort())
	}
	if v.parity != nil {
		errs = append(errs, v.parity.Abort())
	}
	errs = append(errs, v.removeKept())
	for _, p := range v.published {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	v.err = errors.New("volumes aborted")
	return errors.Join(errs...)
}

// VolumeSpan names a run of volumes for a person: "x.tar.000" for one,
// "3 parity volumes x.tar.par0 … x.tar.par2" for several (noun is the
// singular, "parity volume"), "no parity volume" for none.
func VolumeSpan(vols []Volume, noun string) string {
	switch len(vols) {
	case 0:
		return "no " + noun
	case 1:
		return noun + " " + vols[0].Path
	default:
		return fmt.Sprintf("%d %ss %s … %s", len(vols), noun, vols[0].Path, vols[len(vols)-1].Path)
	}
}
