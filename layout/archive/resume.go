package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
)

// resumeEvery, if > 0, overrides the checkpoint interval (tests).
var resumeEvery int64

// Resumer checkpoints the import of one archive read from regular files
// and resumes it on a re-run (see importState). Checkpoints are taken at
// entry boundaries and inside large blobs, every 1/40 of the archive
// (at least 16 MiB, at most 1 GiB), so a re-run after a kill reads at
// most that much again (plus up to 1 MiB read ahead). Blobs of 4 MiB and
// more are staged in a partial blob under layout.ResumeDir, which a kill
// or a signal leaves for the re-run (checkpointed where it stopped when
// the process could). Only plain tar archives resume (a decompressor's
// state is not saved). A nil Resumer does nothing.
type Resumer struct {
	vr      *VolumeReader
	abs     string // the archive's first file, absolute
	name    string // the state file, under layout.ResumeDir
	partial string // the partial blob it stages large blobs in, ditto
	every   int64
	l       *layout.Layout
	notify  func(string)
	off     int64 // archive offset of the last save
	st      *importState
	// As of the last entry boundary:
	at       int64  // the reader's offset while resuming
	from     int64  // where it started reading
	next     int64  // where the next header starts
	last     string // the last entry's name
	lastEnd  int64
	disabled bool
}

// newResumer returns a Resumer for the archive first (as given) read by
// vr, or nil when vr does not read regular files.
func newResumer(first string, vr *VolumeReader) *Resumer {
	abs, err := filepath.Abs(first)
	if err != nil || vr.Size() <= 0 {
		return nil
	}
	every := resumeEvery
	if every <= 0 {
		every = min(max(vr.Size()/40, 16<<20), 1<<30)
	}
	name := stateName(abs)
	return &Resumer{vr: vr, abs: abs, name: name, partial: partialName(name), every: every}
}

func (r *Resumer) say(format string, args ...any) {
	if r.notify != nil {
		r.notify(fmt.Sprintf(format, args...))
	}
}

// begin looks for a state of an interrupted import of this archive. With
// a usable one it positions the reader where that import stopped (add is
// told about every byte read to get there, from offset from on) and
// returns the state to restore; otherwise it removes any state, saying
// why, and returns nil.
func (r *Resumer) begin(ctx context.Context, l *layout.Layout, notify func(string), add func(int64)) (st *importState, from int64, err error) {
	if r == nil {
		return nil, 0, nil
	}
	r.l, r.notify = l, notify
	ids, err := r.vr.identity()
	if err != nil {
		r.disabled = true
		return nil, 0, nil
	}
	fresh := func() (*importState, int64, error) {
		pruneStates(l, maxResumeStates-1)
		r.st = &importState{Format: resumeFormat, Archive: r.abs, Volumes: ids}
		return nil, 0, nil
	}
	st, err = readState(l, r.name)
	if err != nil {
		r.say("ignoring the saved state of an interrupted import (%s: %v); starting from the beginning", r.name, err)
		removeState(l, r.name)
		return fresh()
	}
	if st == nil {
		return fresh()
	}
	if reason := r.usable(ctx, st, ids); reason != "" {
		r.say("not resuming the interrupted import: its saved state %s; starting from the beginning", reason)
		removeState(l, r.name)
		r.vr.rewind()
		return fresh()
	}
	target := st.Offset
	var w *cas.Writer
	if p := st.Pending; p != nil {
		var reason string
		if w, reason, err = r.resumeWriter(ctx, p); err != nil {
			return nil, 0, err
		}
		if w != nil {
			target = p.DataStart + p.Offset // the staged bytes are not read again
		} else {
			r.say("the blob %s the interrupted import was staging %s; reading its entry again", p.Digest, reason)
			st.Pending = nil
		}
	}
	if err := r.seek(st, target, add); err != nil {
		if w != nil {
			w.Abort()
		}
		r.say("not resuming the interrupted import: %v; starting from the beginning", err)
		removeState(l, r.name)
		r.vr.rewind()
		return fresh()
	}
	from = r.from
	if w != nil {
		if err := r.finishPending(ctx, st, w, add); err != nil {
			return nil, 0, err
		}
	}
	var total int64
	for _, id := range ids {
		total += id.Size
	}
	r.say("resuming at %d of %d bytes (%.1f%%): an interrupted import of this archive got that far", r.from, total, 100*float64(r.from)/float64(max(total, 1)))
	r.st, r.off, r.next, r.last, r.lastEnd = st, st.Offset, st.Offset, st.Last, st.End
	return st, min(from, r.from), nil
}

// usable says why st cannot be used ("" if it can): it must fit the
// archive as it is now, every blob it lists must still be stored, and
// the reader must seek to it.
func (r *Resumer) usable(ctx context.Context, st *importState, ids []volumeID) string {
	if err := st.check(r.abs, ids); err != nil {
		return fmt.Sprintf("does not fit: %v", err)
	}
	for _, b := range st.Blobs {
		if ok, err := r.l.Blobs().Has(ctx, b); err != nil || !ok {
			return fmt.Sprintf("is older than the layout: blob %s it stored is gone (gc?)", b.Digest)
		}
	}
	return ""
}

// seek positions the reader at offset target, or where checking the
// volumes resumes if that is earlier (bytes from there to target are
// read again to be checked).
func (r *Resumer) seek(st *importState, target int64, add func(int64)) error {
	from := target
	if st.Check.Vol >= 0 && st.Check.Vol < len(st.Volumes) {
		at := st.Check.Pos
		for _, v := range st.Volumes[:st.Check.Vol] {
			at += v.Size
		}
		from = min(from, at)
	}
	if err := r.vr.seekTo(from, st.Check); err != nil {
		return fmt.Errorf("cannot seek to where it stopped: %w", err)
	}
	r.at, r.from = from, from
	return r.readTo(target, add)
}

// discard reads and drops n bytes of rd.
func discard(rd io.Reader, n int64, add func(int64)) error {
	k, err := io.CopyN(io.Discard, rd, n)
	add(k)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// resumeWriter takes over the partial blob the interrupted import was
// staging: locked (not in use by another import) and its staged bytes
// still hashing to the checkpoint. nil, with the reason, when it cannot.
func (r *Resumer) resumeWriter(ctx context.Context, p *pendingBlob) (*cas.Writer, string, error) {
	f, rel, ok, err := r.l.OpenPartial(r.partial)
	if err != nil || !ok {
		return nil, fmt.Sprintf("cannot be taken over (in use by another import? %v)", err), nil
	}
	desc := ocispec.Descriptor{Digest: p.Digest, Size: p.Size}
	w, err := r.l.Blobs().ResumeWriter(ctx, desc, f, rel, cas.Checkpoint{Offset: p.Offset, State: p.State})
	if err != nil {
		f.Close()
		return nil, "", err
	}
	if w.Size() != p.Offset {
		w.Abort()
		return nil, "is not what was staged then: its bytes no longer match the checkpoint", nil
	}
	return w, "", nil
}

// finishPending completes the blob the interrupted import was staging,
// from its staged bytes (w) and the rest of its entry, and moves st past
// it. When the blob does not verify, the entry is read again from its
// header instead: the reader goes back there and st.Pending is dropped.
func (r *Resumer) finishPending(ctx context.Context, st *importState, w *cas.Writer, add func(int64)) error {
	p := st.Pending
	st.Pending = nil
	n, err := io.CopyN(w, cas.ContextReader(ctx, r.vr), p.Size-p.Offset)
	add(n)
	r.at += n
	if err != nil {
		w.Abort()
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("archive ends inside entry %q: %w", p.Name, ErrTruncated)
		}
		return err
	}
	if _, err := w.Commit(ctx); err != nil {
		if !errors.Is(err, cas.ErrDigestMismatch) && !errors.Is(err, cas.ErrSizeMismatch) {
			return err
		}
		r.say("the blob %s the interrupted import was staging did not verify (%v); reading its entry again", p.Digest, err)
		r.vr.rewind()
		return r.seek(st, st.Offset, add)
	}
	desc := ocispec.Descriptor{Digest: p.Digest, Size: p.Size}
	st.Seen = append(st.Seen, path.Clean(p.Name))
	st.Entries++
	st.Blobs = append(st.Blobs, desc)
	st.Result.Imported++
	st.Result.ImportedBytes += p.Size
	st.Last, st.End = p.Name, p.DataStart+padded(p.Size)
	st.Offset = st.End
	return r.readTo(st.End, add)
}

// readTo reads and drops the archive's bytes up to offset at.
func (r *Resumer) readTo(at int64, add func(int64)) error {
	if at < r.at {
		return fmt.Errorf("resume: offset %d is behind the reader's %d", at, r.at)
	}
	err := discard(r.vr, at-r.at, add)
	r.at = at
	return err
}

// restore applies st to a fresh importer.
func (r *Resumer) restore(im *importer, st *importState) {
	for _, n := range st.Seen {
		im.seen[n] = n
		im.names += int64(2 * len(n))
	}
	im.entries = st.Entries
	im.found, im.last, im.end = st.Found, st.Last, st.End
	im.s.off = st.Offset
	im.s.limit += st.Offset
	im.res.Imported, im.res.ImportedBytes = st.Result.Imported, st.Result.ImportedBytes
	im.res.Reused, im.res.ReusedBytes = st.Result.Reused, st.Result.ReusedBytes
	// The blobs before the documents-complete mark are not all known
	// again: signatures are then checked at the end (Admit) only, as for
	// an archive without the mark.
	if im.watch != nil {
		im.watch.fired = true
	}
}

// plain disables checkpoints unless the archive is a plain tar.
func (r *Resumer) plain(plain bool) {
	if r != nil && !plain {
		r.disabled = true
	}
}

// boundary records the entry just imported and saves a checkpoint when
// one is due.
func (r *Resumer) boundary(im *importer, e entry, size int64) {
	if r == nil || r.disabled {
		return
	}
	r.st.Seen = append(r.st.Seen, e.name)
	if e.kind == kindBlob {
		r.st.Blobs = append(r.st.Blobs, ocispec.Descriptor{Digest: e.digest, Size: size})
	}
	r.next, r.last, r.lastEnd = im.end, im.last, im.end
	if im.index == nil && im.s.off-r.off >= r.every {
		r.save(im, nil)
	}
}

// save writes a checkpoint at the last entry boundary, with p the blob
// being staged after it, if any.
func (r *Resumer) save(im *importer, p *pendingBlob) bool {
	chk, err := r.vr.hashPoint()
	if err == nil {
		st := r.st
		st.Offset, st.Entries, st.Found, st.Last, st.End, st.Check, st.Pending = r.next, len(st.Seen), im.found, r.last, r.lastEnd, chk, p
		st.Result = resumeCounts{im.res.Imported, im.res.ImportedBytes, im.res.Reused, im.res.ReusedBytes}
		if st.Offset > 0 {
			err = writeState(r.l, r.name, st)
		}
	}
	if err != nil {
		r.say("cannot save how far the import got (%v); an interrupted import will start over", err)
		r.disabled = true
		return false
	}
	r.off = im.s.off
	return true
}

// writer starts staging a blob entry: for a large blob of a resumable
// import, in the archive's partial blob under layout.ResumeDir (which a
// kill or a signal leaves for the re-run), else as usual. It returns the
// writer and what to copy the entry into: the writer, or a wrapper that
// saves checkpoints inside the blob when they are due.
func (r *Resumer) writer(ctx context.Context, l *layout.Layout, im *importer, desc ocispec.Descriptor, hdr *tar.Header, e entry) (*cas.Writer, io.Writer, error) {
	if r == nil || r.disabled || desc.Size < resumableBlob {
		w, err := l.Blobs().Writer(ctx, desc)
		return w, w, err
	}
	f, rel, ok, err := l.OpenPartial(r.partial)
	if err != nil || !ok {
		// Another import of this archive holds it: leave resuming to it.
		r.disabled = true
		w, err := l.Blobs().Writer(ctx, desc)
		return w, w, err
	}
	w, err := l.Blobs().ResumeWriter(ctx, desc, f, rel, cas.Checkpoint{})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return w, &checkpointWriter{r: r, im: im, w: w, p: pendingBlob{Name: hdr.Name, Digest: e.digest, Size: hdr.Size, DataStart: im.end - padded(hdr.Size)}}, nil
}

// resumableBlob is the size from which a blob is staged resumably.
const resumableBlob = 4 << 20

type checkpointWriter struct {
	r      *Resumer
	im     *importer
	w      *cas.Writer
	p      pendingBlob
	staged int64 // bytes staged at the last checkpoint
}

func (c *checkpointWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if err == nil && !c.r.disabled && c.im.index == nil && c.im.s.off-c.r.off >= c.r.every {
		c.checkpoint()
	}
	return n, err
}

// checkpoint saves the state with the staged bytes (fsynced).
func (c *checkpointWriter) checkpoint() bool {
	cp, err := c.w.Checkpoint()
	if err != nil {
		c.r.say("cannot save the blob being staged (%v)", err)
		return false
	}
	if cp.Offset == 0 {
		return c.r.save(c.im, nil)
	}
	c.staged = cp.Offset
	p := c.p
	p.Offset, p.State = cp.Offset, cp.State
	return c.r.save(c.im, &p)
}

// stop ends staging after the entry could not be copied: a resumable
// writer is checkpointed where it stopped and suspended (its partial
// blob kept for the re-run: an interrupted import, a stick pulled out);
// any other is aborted.
func (r *Resumer) stop(w *cas.Writer, dst io.Writer) {
	if c, ok := dst.(*checkpointWriter); ok && !r.disabled && c.checkpoint() {
		w.Suspend()
		r.say("kept the %d bytes of blob %s staged so far under %s: running this import again continues there (gc removes them)", c.staged, c.p.Digest, filepath.Join(r.l.Dir(), filepath.FromSlash(layout.ResumeDir)))
		return
	}
	w.Abort()
}

// finish forgets the state: the import completed.
func (r *Resumer) finish() {
	if r != nil && r.l != nil {
		removeState(r.l, r.name)
	}
}
