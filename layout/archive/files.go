package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
)

// FAT32MaxFile is the largest file FAT32 holds, 4 GiB − 1: ExportFile
// takes a split size of exactly 4 GiB to mean it, so `4GiB` volumes fit
// the sticks people carry.
const FAT32MaxFile = 4<<30 - 1

// ExportFile writes the export o describes to the file path or, with
// split > 0, to the volumes path.000, path.001, … of at most split bytes
// each, plus the sidecar path.sha256 listing every volume in `sha256sum -c`
// form (res.Sidecar), and with o.Parity > 0 that many parity volumes
// path.par0, … (listed in the sidecar too, res.Parity). The stream is compressed as a whole when
// o.Compression says so. A path inside the layout (or resolving there),
// and a split size that would need more than MaxVolumes volumes
// (ErrTooManyVolumes), are refused before anything is written. Every path
// is written by the output rule of fsx.CreateOutput (RELIABILITY I13): a
// regular file or nothing is written as NAME.partial, fsynced, and renamed
// only once the whole export succeeded, so on error nothing is left under
// a final name; a FIFO, a character device or "-" is streamed to (one
// output, no sidecar); a symlink is followed to a regular file, whose
// directory then also holds the sidecar; anything else — and a stream at a
// split volume's name — is refused, wrapping fsx.ErrBadOutput.
// An uncompressed split export that is cancelled (ctx) or killed keeps
// the volumes it finished, and the same export run again keeps them (read
// back and checked) and continues after them (exportresume.go; res.Kept).
func ExportFile(ctx context.Context, l *layout.Layout, path string, split int64, o ExportOptions) (*ExportResult, []Volume, error) {
	if split == 4<<30 {
		split = FAT32MaxFile
	}
	check := func(final string) error {
		if final == "-" {
			return nil
		}
		return CheckOutside(l.Dir(), final)
	}
	p, err := plan(ctx, l, o)
	if err != nil {
		return nil, nil, err
	}
	if err := p.checkSplit(ctx, l, split, o); err != nil {
		return nil, nil, err
	}
	vols, err := createVolumesFor(path, split, check, p, o)
	if err != nil {
		return nil, nil, err
	}
	vols.keepSignature = o.Signed
	return exportFile(ctx, l, vols, p, o)
}

// compressTo runs write through o's compressor, if any, into w.
func compressTo(w io.Writer, o ExportOptions, write func(io.Writer) error) error {
	if o.Compression == "" || o.Compression == compress.None {
		return write(w)
	}
	cw, err := compress.NewWriter(w, o.Compression, compress.Options{Level: o.Level, Concurrency: max(o.Jobs, 1)})
	if err != nil {
		return err
	}
	err = write(cw)
	if cerr := cw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish %s stream: %w", o.Compression, cerr)
	}
	return err
}

// Archives are archive files opened for import: files grouped into volume
// sets (a.tar.000 finds a.tar.001, … and loads a.tar.sha256) and single
// archives, checked for order, gaps and repeats before any layout is
// touched. Close releases them.
type Archives struct {
	sets []*VolumeReader
	srcs []Source
	// transfersChecked: CheckTransfers passed (Import does not repeat it).
	transfersChecked bool
	parity           []*paritySet // per set: its parity volumes, or nil
}

// OpenArchives opens files for import. The same file given twice (under
// any name) is refused. Notices — a volume set without its sidecar — go to
// notify, if not nil.
func OpenArchives(files []string, notify func(string)) (*Archives, error) {
	if err := distinctFiles(files); err != nil {
		return nil, err
	}
	a := &Archives{}
	for _, group := range GroupArchives(files) {
		vols, ps, err := openVolumeSet(group, notify)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.sets = append(a.sets, vols)
		a.parity = append(a.parity, ps)
		if vols.Sidecar() == "" && notify != nil {
			notify(fmt.Sprintf("no %s beside %s: relying on the archive's structure and blob digests", vols.SidecarPath(), group[0]))
		}
		a.srcs = append(a.srcs, Source{Name: group[0], R: vols, Size: vols.Size(), Verify: vols.Finish, Resume: newResumer(group[0], vols)})
	}
	if len(a.srcs) == 1 {
		a.srcs[0].Name = ""
	}
	return a, nil
}

// Import imports the archives into l as ImportAll does: each is read and
// verified in turn, and all tags change together at the end. Data volumes
// of a set with parity volumes (export --parity) that are missing or
// damaged are first rebuilt from the parity into l's staging (removed
// with it; ImportResult.RebuiltVolumes names them); a volume found corrupted
// while a single archive is read is rebuilt the same way and the import
// runs again, as long as the parity volumes suffice.
func (a *Archives) Import(ctx context.Context, l *layout.Layout, o ImportOptions) (*ImportResult, error) {
	if err := a.CheckTransfers(ctx, o.Transfer); err != nil {
		return nil, err
	}
	return a.importSets(ctx, l, o)
}

// Close closes every volume.
func (a *Archives) Close() error {
	var first error
	for _, v := range a.sets {
		if err := v.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ImportFiles opens files (OpenArchives) and imports them into l.
func ImportFiles(ctx context.Context, l *layout.Layout, files []string, o ImportOptions) (*ImportResult, error) {
	a, err := OpenArchives(files, o.Notify)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return a.Import(ctx, l, o)
}

// sidecarFirst puts a damaged volume first: when the sidecar shows a
// volume truncated or corrupted, that is the cause, whatever the tar
// reader tripped over.
func sidecarFirst(err error, vols *VolumeReader) error {
	if vols.Sidecar() == "" || errors.Is(err, ErrChecksum) {
		return err
	}
	if cerr := vols.Finish(); errors.Is(cerr, ErrChecksum) {
		return fmt.Errorf("%w (the import stopped with: %v)", cerr, err)
	}
	return err
}

// distinctFiles refuses a file given twice (by another name, too): the
// second copy would add nothing, so it is a slip of the caller.
func distinctFiles(files []string) error {
	var seen []os.FileInfo
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue // opening it reports the error
		}
		for j, prev := range seen {
			if prev != nil && os.SameFile(prev, fi) {
				return fmt.Errorf("%w: %s and %s are the same file: give each archive once", layout.ErrInvalidArgument, files[j], files[i])
			}
		}
		seen = append(seen, fi)
	}
	return nil
}
