package cas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// Trust (RELIABILITY I6): a stored blob is relied on — for dedupe, as the
// excluded part of a delta, in a receipt — only if it was verified since
// it last changed. Check is that one rule; Has, Put, Writer.Commit and
// every caller that skips bytes because "the layout has them" go through
// it. A blob's verification is remembered as a record of its fingerprint
// (Fingerprint: device, inode, size, mtime, ctime), written when the blob
// is committed and whenever a full read proves its bytes (Check,
// OpenVerified read to EOF). A blob whose current fingerprint has no
// record is re-hashed before it is trusted.

// State is what Check found under a blob's name.
type State int

const (
	// Absent: nothing is stored under the name.
	Absent State = iota
	// Trusted: a regular file whose bytes are the digest's, verified
	// since it last changed.
	Trusted
	// Corrupt: a regular file whose bytes are not the digest's, or
	// something that is not a regular file (symlink, FIFO, device,
	// directory). Commit of the right bytes repairs it.
	Corrupt
)

func (s State) String() string {
	switch s {
	case Absent:
		return "absent"
	case Trusted:
		return "trusted"
	}
	return "corrupt"
}

// Status is Check's finding.
type Status struct {
	State State
	Size  int64  // the stored file's size (Trusted or Corrupt regular file)
	Why   string // Corrupt: what is wrong, for messages
	// Hashed is the number of bytes Check read (0: the record sufficed).
	Hashed int64
	fp     Fingerprint
	hasFP  bool
}

// Check says whether blob d can be relied on. It reads the blob only if
// the blob changed (or was never verified) since its last verification;
// concurrent checks of one digest share one read. A read that finds the
// right bytes renews the record. Errors are only those that stop the
// check (cancellation, an I/O error reading the blob); what is wrong with
// the blob is in Status.
func (s *Store) Check(ctx context.Context, d digest.Digest) (Status, error) {
	p, err := BlobPath(d)
	if err != nil {
		return Status{}, err
	}
	fi, err := s.root.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Status{State: Absent}, nil
	case err != nil:
		return Status{}, fmt.Errorf("stat blob %s: %w", d, err)
	case !fi.Mode().IsRegular():
		return Status{State: Corrupt, Why: "not a regular file (" + fsx.FileKind(fi.Mode()) + ")"}, nil
	}
	fp, hasFP := FingerprintOf(fi)
	if hasFP && s.recorded(d, fp) {
		return Status{State: Trusted, Size: fi.Size(), fp: fp, hasFP: true}, nil
	}
	if hasFP {
		if why, ok := s.knownBad(d, fp); ok {
			return Status{State: Corrupt, Size: fi.Size(), Why: why, fp: fp, hasFP: true}, nil
		}
	}
	v, err, _ := s.checks.Do(string(d), func() (any, error) { return s.rehash(ctx, d, p) })
	if err != nil {
		return Status{}, err
	}
	return v.(Status), nil
}

// Has reports whether desc is stored, trusted (Check) and of exactly
// desc.Size bytes: the test for dedupe. A blob that changed since it was
// verified is re-hashed first; a corrupt one is not held (a Commit of the
// right bytes repairs it).
func (s *Store) Has(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	st, err := s.Check(ctx, desc.Digest)
	if err != nil {
		return false, err
	}
	return st.State == Trusted && st.Size == desc.Size, nil
}

// rehash reads blob d in full and records its fingerprint if the bytes
// are right and the file did not change while it was read.
func (s *Store) rehash(ctx context.Context, d digest.Digest, p string) (Status, error) {
	f, err := fsx.OpenRegular(s.root, p)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return Status{State: Absent}, nil
		case errors.Is(err, ErrNotRegular):
			return Status{State: Corrupt, Why: err.Error()}, nil
		}
		return Status{}, fmt.Errorf("open blob %s: %w", d, err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Status{}, fmt.Errorf("stat blob %s: %w", d, err)
	}
	h := d.Algorithm().Hash()
	n, err := io.CopyBuffer(h, ContextReader(ctx, f), make([]byte, 1<<20))
	if err != nil {
		if ctx.Err() != nil {
			return Status{}, ctx.Err()
		}
		return Status{}, fmt.Errorf("read blob %s: %w", d, err)
	}
	st := Status{Size: n, Hashed: n}
	st.fp, st.hasFP = FingerprintOf(before)
	if got := digest.NewDigest(d.Algorithm(), h); got != d {
		st.State, st.Why = Corrupt, fmt.Sprintf("content is %s (%d bytes)", got, n)
		if st.hasFP {
			s.bad.Store(d, badBlob{fp: st.fp, why: st.Why})
		}
		return st, nil
	}
	st.State = Trusted
	if after, err := f.Stat(); err == nil && st.hasFP {
		if fp, _ := FingerprintOf(after); fp == st.fp && fp.Size == n {
			s.record(d, fp)
		}
	}
	return st, nil
}

// badBlob remembers a corrupt blob's fingerprint, so a Commit that follows
// a failed Has (import, copy) repairs it without reading it again.
type badBlob struct {
	fp  Fingerprint
	why string
}

func (s *Store) knownBad(d digest.Digest, fp Fingerprint) (string, bool) {
	v, ok := s.bad.Load(d)
	if !ok || v.(badBlob).fp != fp {
		return "", false
	}
	return v.(badBlob).why, true
}

// verifiedAt is called when a full read of f proved blob d's bytes
// (OpenVerified at EOF): if f is still what was opened, unchanged, its
// fingerprint is recorded.
func (s *Store) verifiedAt(d digest.Digest, opened os.FileInfo, f *os.File) {
	now, err := f.Stat()
	if err != nil {
		return
	}
	a, ok1 := FingerprintOf(opened)
	b, ok2 := FingerprintOf(now)
	if ok1 && ok2 && a == b {
		s.record(d, b)
	}
}

// Repair reports blob d replaced because the stored copy was corrupt.
type Repair struct {
	Digest digest.Digest
	Why    string // what was wrong with the replaced copy
}

// OnRepair sets fn to be told of every corrupt blob this store replaces
// with verified bytes (Writer.Commit, Put): the CLI prints "repaired
// corrupt blob sha256:…". fn may be called from several goroutines.
func (s *Store) OnRepair(fn func(Repair)) { s.onRepair = fn }

// now is the clock Racy is judged by.
var now = time.Now

// published is Commit's last step, after the staged bytes (verified, with
// stat staged taken before close) were renamed to blob d's name and the
// directory fsynced: it records the new file's fingerprint — if the file
// under the name is still the one staged (same inode, size and mtime;
// the rename itself may change ctime) — and reports a repair if the copy
// replaced was corrupt.
func (s *Store) published(d digest.Digest, staged os.FileInfo, prior Status) bool {
	p, _ := BlobPath(d)
	if fi, err := s.root.Lstat(p); err == nil {
		a, ok1 := FingerprintOf(staged)
		b, ok2 := FingerprintOf(fi)
		if ok1 && ok2 && a.Dev == b.Dev && a.Ino == b.Ino && a.Size == b.Size && a.Mtime == b.Mtime {
			s.record(d, b)
		}
	}
	if prior.hasFP {
		s.forget(d, prior.fp)
	}
	s.bad.Delete(d)
	if prior.State != Corrupt {
		return false
	}
	if fn := s.onRepair; fn != nil {
		fn(Repair{Digest: d, Why: prior.Why})
	}
	return true
}
