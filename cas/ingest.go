package cas

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// Method is how ReadFromFile moved a file's bytes into the staged blob.
type Method string

const (
	// MethodClone: a copy-on-write clone of the file (no bytes copied,
	// no space used until either side changes); the file was hashed
	// where it lies.
	MethodClone Method = "clone"
	// MethodCloneRehashed: a clone whose bytes were hashed again from
	// the staged copy, because the proof below did not hold (stamps too
	// recent, no write-back): zero-copy on disk, read twice.
	MethodCloneRehashed Method = "clone, re-hashed"
	// MethodKernelCopy: the kernel copied the bytes (copy_file_range or
	// sendfile) from the file's page cache into the staged blob, and the
	// digest was computed by reading the staged blob back.
	MethodKernelCopy Method = "kernel copy"
	// MethodCopy: read and written through user space, hashed as written.
	MethodCopy Method = "copy"
)

// ErrSourceChanged: the file being stored changed (size, mtime or ctime)
// while it was read, so no consistent copy of it exists to store.
var ErrSourceChanged = errors.New("file changed while it was read")

// racyWindow: stamps this close to the moment they are read prove
// nothing, since a change in the same tick of a coarse clock (FAT: 2 s,
// most kernels: a few ms) can leave them equal. Tests shorten it.
var racyWindow = 2 * time.Second

const (
	ingestChunk = 8 << 20 // bytes per kernel copy, then hashed back
	ingestBuf   = 1 << 20 // the buffer hashing reads into
	ingestAhead = 4       // kernel-copied chunks waiting to be hashed
)

// ReadFromFile stages all of src, a regular file open for reading at any
// position, as the writer's blob: the writer must be fresh (nothing
// written) and have no expected digest; Commit then verifies, fsyncs and
// renames as after Write. progress, if not nil, gets the bytes hashed as
// they are hashed. It reads src from offset 0 to its end, and fails with
// ErrSourceChanged if src's size, mtime or ctime changed meanwhile, or if
// it did not end at the size it had when ReadFromFile started (a file
// that reported size 0 and still does — /proc — is taken as read).
//
// It moves the bytes the cheapest way the file systems allow, and the
// digest Commit checks is always the digest of the staged bytes:
//
//   - Clone (XFS with reflink, btrfs, bcachefs: the staging file and src on
//     one file system): src is cloned into the staging file, then hashed where
//     it lies, so a 4 GiB file costs its hashing and no bytes are copied. Why
//     src's digest names the clone: src's fingerprint fp0 (device, inode,
//     size, mtime, ctime) is taken first; then its dirty pages are written
//     back and waited for, which also write-protects every shared writable
//     mapping of it, so that from then on even a store through a mapping
//     faults and sets mtime and ctime like a write (XFS and btrfs do the same
//     inside the clone; this does not rely on it); then the clone, which holds
//     the inode's write lock, so it is atomic with respect to writes and
//     starts only after a write already under way at fp0 has finished; then
//     the hash; then fp2. Every way to change a file's bytes — write,
//     truncate, fallocate, a clone or copy into it, a store through a mapping
//     after the write-back — sets its ctime to the current time when it
//     starts, and no call can set ctime back. fp0's stamps were older than
//     racyWindow when it was taken, so a change starting after it cannot land
//     in the same clock tick and leave them equal. Hence fp2 == fp0 means no
//     change started between fp0 and fp2, and what was under way at fp0 (a
//     write, a store through a still-writable mapping) was over before the
//     clone, which the hash follows: the clone holds exactly the bytes hashed.
//     fp2 != fp0 is ErrSourceChanged, as for every method. On any doubt — the
//     write-back failed, stamps too recent, the clone's size is not the size
//     hashed — the staged clone is hashed itself and must match. Writes below
//     the file system (to the block device) escape this, as they escape every
//     check short of re-reading; verify re-hashes.
//   - Kernel copy (same or different file systems, no clone): each 8 MiB
//     range is moved by copy_file_range (else sendfile) from src's page
//     cache into the staging file, then read back from the staging
//     file's page cache and hashed, so the digest is of the staged bytes
//     by construction, and src is read once, by the kernel.
//   - Copy: read into a buffer, hashed and written, as Write does.
//
// Hard links are never used: a later write to src would change the blob.
func (w *Writer) ReadFromFile(ctx context.Context, src *os.File, progress func(int64)) (Method, error) {
	if w.done {
		return "", ErrAborted
	}
	if w.n != 0 || w.expected.Digest != "" {
		return "", errors.New("ReadFromFile needs a fresh writer without an expected digest")
	}
	if progress == nil {
		progress = func(int64) {}
	}
	taken := time.Now()
	before, err := src.Stat()
	if err != nil {
		return "", err
	}
	if !before.Mode().IsRegular() {
		return "", fmt.Errorf("%s: %w (%s)", src.Name(), ErrNotRegular, fsx.FileKind(before.Mode()))
	}
	if before.Size() > 0 {
		m, err := w.cloneFrom(ctx, src, before, taken, progress)
		if !errors.Is(err, errors.ErrUnsupported) {
			return m, err
		}
		m, err = w.kernelCopyFrom(ctx, src, before, progress)
		if !errors.Is(err, errors.ErrUnsupported) {
			return m, err
		}
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	n, err := io.CopyBuffer(w, progressReader{ctx, src, progress}, make([]byte, ingestBuf))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", src.Name(), err)
	}
	return MethodCopy, CheckUnchanged(src, before, n)
}

// cloneFrom is ReadFromFile by clone; ErrUnsupported (nothing done) where
// src and the staging file cannot be cloned.
func (w *Writer) cloneFrom(ctx context.Context, src *os.File, before os.FileInfo, taken time.Time, progress func(int64)) (Method, error) {
	fp0, ok := FingerprintOf(before)
	if !ok || !sameDevice(fp0, w.f) || !fsx.CloneFS(src) {
		return "", errors.ErrUnsupported
	}
	flushErr := fsx.FlushWait(src)
	if err := fsx.Clone(w.f, src); err != nil {
		return "", err // ErrUnsupported: the staging file is still empty
	}
	h := w.alg.Hash()
	n, err := hashFile(ctx, h, src, progress)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", src.Name(), err)
	}
	if err := CheckUnchanged(src, before, n); err != nil {
		return "", err
	}
	w.n = n
	if flushErr == nil && !racy(fp0, taken) && stagedSize(w.f) == n {
		w.h = h // src unchanged from fp0 to now: the clone holds these bytes
		return MethodClone, nil
	}
	// Doubt: hash the clone itself.
	staged := w.alg.Hash()
	m, err := hashFile(ctx, staged, w.f, func(int64) {})
	if err != nil {
		return "", fmt.Errorf("read back staged clone of %s: %w", src.Name(), err)
	}
	if m != n || string(staged.Sum(nil)) != string(h.Sum(nil)) {
		return "", fmt.Errorf("%s: %w (between being cloned and hashed)", src.Name(), ErrSourceChanged)
	}
	w.h = staged
	return MethodCloneRehashed, nil
}

// kernelCopyFrom is ReadFromFile by kernel copy; ErrUnsupported (nothing
// done) where neither copy_file_range nor sendfile works for these files.
// The copy runs up to ingestAhead ranges ahead of the hashing, on its own
// goroutine, so one file keeps two cores busy: one in the kernel copying,
// one reading back and hashing.
func (w *Writer) kernelCopyFrom(ctx context.Context, src *os.File, before os.FileInfo, progress func(int64)) (Method, error) {
	c := fsx.RangeCopier{Dst: w.f, Src: src}
	limit := before.Size() + 1 // one byte more tells a file that grew
	first, err := c.Copy(0, int(min(ingestChunk, limit)))
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return "", err
		}
		return "", fmt.Errorf("copy %s into the staging file: %w", src.Name(), err)
	}
	type span struct{ off, n int64 }
	spans := make(chan span, ingestAhead)
	stop := make(chan struct{})
	var copyErr error
	go func() {
		defer close(spans)
		for off, k := int64(0), int64(first); k > 0; {
			select {
			case spans <- span{off, k}:
			case <-stop:
				return
			}
			off += k
			if off >= limit {
				return
			}
			if copyErr = ctx.Err(); copyErr != nil {
				return
			}
			n, err := c.Copy(off, int(min(ingestChunk, limit-off)))
			if err != nil {
				copyErr = fmt.Errorf("copy %s into the staging file: %w", src.Name(), err)
				return
			}
			k = int64(n)
		}
	}()
	buf := make([]byte, ingestBuf)
	var hashErr error
	for sp := range spans {
		if hashErr != nil {
			continue // draining after stop
		}
		if hashErr = ctx.Err(); hashErr == nil {
			hashErr = w.hashStaged(buf, sp.off, sp.n)
		}
		if hashErr != nil {
			close(stop)
			continue
		}
		fsx.StartWriteback(w.f, sp.off, sp.n)
		progress(sp.n)
	}
	if hashErr != nil {
		return "", hashErr
	}
	if copyErr != nil {
		return "", copyErr
	}
	return MethodKernelCopy, CheckUnchanged(src, before, w.n)
}

// hashStaged reads n staged bytes at off back and hashes them.
func (w *Writer) hashStaged(buf []byte, off, n int64) error {
	for n > 0 {
		k, err := w.f.ReadAt(buf[:min(int64(len(buf)), n)], off)
		w.h.Write(buf[:k])
		w.n += int64(k)
		off += int64(k)
		n -= int64(k)
		if err != nil && !(err == io.EOF && n == 0) {
			return fmt.Errorf("read back staged blob: %w", err)
		}
	}
	return nil
}

// hashFile hashes f from offset 0 to its end.
func hashFile(ctx context.Context, h hash.Hash, f *os.File, progress func(int64)) (int64, error) {
	return io.CopyBuffer(h, progressReader{ctx, io.NewSectionReader(f, 0, 1<<62), progress}, make([]byte, ingestBuf))
}

// CheckUnchanged returns an error wrapping ErrSourceChanged, with what was
// expected and found, if src changed since before (its fstat when reading
// started) while n bytes were read from it: its size, mtime or ctime
// differ now, or n is not the size it had (a file that reported size 0
// and still does — /proc — is taken as read).
func CheckUnchanged(src *os.File, before os.FileInfo, n int64) error {
	after, err := src.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", src.Name(), err)
	}
	fp0, ok0 := FingerprintOf(before)
	fp1, ok1 := FingerprintOf(after)
	switch {
	case after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || (ok0 && ok1 && fp0 != fp1):
		return fmt.Errorf("%w (size %d, mtime %s, ctime %s when opened; size %d, mtime %s, ctime %s after reading)", ErrSourceChanged,
			before.Size(), stampTime(before.ModTime().UnixNano()), stampTime(fp0.Ctime), after.Size(), stampTime(after.ModTime().UnixNano()), stampTime(fp1.Ctime))
	case before.Size() != 0 && n != before.Size():
		return fmt.Errorf("%w (%d bytes read, %d when opened)", ErrSourceChanged, n, before.Size())
	}
	return nil
}

func stampTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// racy: fp's stamps were within racyWindow of the moment it was taken.
func racy(fp Fingerprint, taken time.Time) bool {
	limit := taken.Add(-racyWindow).UnixNano()
	return fp.Mtime >= limit || fp.Ctime >= limit
}

// stagedSize is f's size, or -1 if it cannot be read.
func stagedSize(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil {
		return -1
	}
	return fi.Size()
}

// sameDevice: f is on fp's device (a clone needs one file system).
func sameDevice(fp Fingerprint, f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	fq, ok := FingerprintOf(fi)
	return ok && fq.Dev == fp.Dev
}

// progressReader reports what it reads and stops when ctx is done.
type progressReader struct {
	ctx context.Context
	r   io.Reader
	add func(int64)
}

func (p progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.add(int64(n))
	return n, err
}
