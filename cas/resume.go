package cas

import (
	"bytes"
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/oci-pack/oci-pack/cas/fsx"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Checkpoint is how far a resumable Writer got: Offset bytes staged, and
// State, the digest algorithm's marshalled hash state after them. It is
// what a process keeps so that another can go on where it stopped.
type Checkpoint struct {
	Offset int64  `json:"offset"`
	State  []byte `json:"state"`
}

// ResumeWriter stages expected (whose digest and size are required) in f,
// a staging file the caller opened at name (relative to the store root,
// inside the layout, on the blobs' filesystem) and keeps across processes
// for resumption; the caller also keeps other processes away from it.
//
// If f holds at least cp.Offset bytes and the first cp.Offset of them
// still hash to cp.State, staging resumes after them: the bytes are
// re-read and re-hashed, not trusted (RELIABILITY I6), and what lies
// beyond cp.Offset is cut off. Otherwise f is emptied and staging starts
// from zero. Size reports where it resumed. Commit verifies the whole
// blob against expected and renames f to its blob path, as for Writer;
// Abort removes f; Suspend keeps it.
func (s *Store) ResumeWriter(ctx context.Context, expected ocispec.Descriptor, f *os.File, name string, cp Checkpoint) (*Writer, error) {
	if s.staging == "" {
		return nil, errors.New("blob store is read-only")
	}
	if err := Validate(expected.Digest); err != nil {
		return nil, err
	}
	if expected.Size < 0 {
		return nil, fmt.Errorf("%s: invalid descriptor size %d: %w", expected.Digest, expected.Size, ErrSizeMismatch)
	}
	w := &Writer{s: s, expected: expected, alg: expected.Digest.Algorithm(), tmp: name, f: f, h: expected.Digest.Algorithm().Hash(), resumable: true}
	off, err := w.verifyPrefix(ctx, cp)
	if err != nil {
		return nil, err
	}
	if off == 0 {
		w.h.Reset()
		if err := f.Truncate(0); err != nil {
			return nil, fmt.Errorf("empty partial blob %s: %w", name, err)
		}
	} else if err := f.Truncate(off); err != nil {
		return nil, fmt.Errorf("cut partial blob %s at %d: %w", name, off, err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek partial blob %s: %w", name, err)
	}
	w.n = off
	w.wb = fsx.WritebackFileAt(f, off)
	return w, nil
}

// verifyPrefix re-hashes the first cp.Offset bytes of w.f and returns
// cp.Offset if they hash to cp.State (w.h then holds that state), else 0.
func (w *Writer) verifyPrefix(ctx context.Context, cp Checkpoint) (int64, error) {
	if cp.Offset <= 0 || cp.Offset > w.expected.Size || len(cp.State) == 0 {
		return 0, nil
	}
	fi, err := w.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat partial blob %s: %w", w.tmp, err)
	}
	if fi.Size() < cp.Offset {
		return 0, nil
	}
	buf := make([]byte, 1<<20)
	r := io.NewSectionReader(w.f, 0, cp.Offset)
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := r.Read(buf)
		w.h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read partial blob %s: %w", w.tmp, err)
		}
	}
	got, err := w.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || !bytes.Equal(got, cp.State) {
		return 0, nil
	}
	return cp.Offset, nil
}

// Checkpoint fsyncs the bytes staged so far and returns where a later
// ResumeWriter can go on from. Only a resumable writer has checkpoints.
func (w *Writer) Checkpoint() (Checkpoint, error) {
	if w.done || !w.resumable {
		return Checkpoint{}, ErrAborted
	}
	if err := w.f.Sync(); err != nil {
		return Checkpoint{}, fmt.Errorf("fsync partial blob %s: %w", w.tmp, err)
	}
	st, err := w.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return Checkpoint{}, fmt.Errorf("hash state of %s: %w", w.tmp, err)
	}
	return Checkpoint{Offset: w.n, State: st}, nil
}

// Suspend ends a resumable writer without committing and keeps its
// staging file for a later ResumeWriter; for any other writer it is
// Abort. Like Abort, it is safe to call any number of times.
func (w *Writer) Suspend() error {
	if !w.resumable {
		return w.Abort()
	}
	if w.done {
		return nil
	}
	w.done = true
	if w.f != nil {
		err := w.f.Close()
		w.f = nil
		return err
	}
	return nil
}
