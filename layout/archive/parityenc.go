package archive

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/reedsolomon"
	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// parityQueue is how many data chunks may wait for the parity worker.
const parityQueue = 4

// ParityWriter computes N parity volumes while the data volumes of one
// stream are written, never reading the data again. Feed takes the data
// bytes as they are written, volume after volume; each full chunk (1 MiB)
// of data volume j at offset o is added, on a worker goroutine, to the
// same range of every parity volume (read, EncodeIdx, write back: parity
// volumes are the accumulators, so they stay in the page cache while the
// stream is written). Memory: (4 + N) chunks, 6 MiB for N = 2, whatever
// the size of the volumes. Finish appends each parity volume's trailer
// and hashes it (reading the N parity volumes once); Commit renames them
// from .partial to their final names.
type ParityWriter struct {
	base  string
	n     int
	enc   reedsolomon.Encoder // over MaxParityData data shards: column j is volume j's coefficients
	outs  []*fsx.Output       // the parity volumes (FILE.parP.partial until Commit)
	files []*os.File          // the same files opened for reading and writing
	vols  []Volume            // after Finish
	par   [][]byte            // the worker's parity chunk buffers

	cur  *parityJob // being filled by Feed
	vol  int        // data volume being fed
	off  int64      // bytes fed of it
	work chan *parityJob
	free chan *parityJob
	done chan struct{}

	mu     sync.Mutex
	failed error // the worker's first error
	err    error // sticky, Feed's side

	// Expected stream length and volume size (Expect; 0: unknown): the
	// parity of a range is final once the last volume that reaches it
	// was added, and its writeback can start then instead of at Finish.
	total, split int64
}

// parityJob is one chunk of one data volume.
type parityJob struct {
	vol int
	off int64
	b   []byte
}

// CreateParity starts n parity volumes for the volume set base, each
// written by the output rule of fsx.CreateOutput (base.parP.partial until
// Commit; only a regular file or nothing may be at its name), check
// called on each path as for the data volumes.
func CreateParity(base string, n int, check func(string) error) (*ParityWriter, error) {
	if n < 1 || n > MaxParity {
		return nil, fmt.Errorf("parity %d: want 1..%d volumes", n, MaxParity)
	}
	enc, err := newParityCodec(MaxParityData, n)
	if err != nil {
		return nil, err
	}
	p := &ParityWriter{base: base, n: n, enc: enc, work: make(chan *parityJob, parityQueue), free: make(chan *parityJob, parityQueue), done: make(chan struct{})}
	// The worker runs from the start: Abort, also on a failed create
	// below, stops it and waits for it (it touches the volumes only for
	// jobs, which Feed sends after this returns).
	go p.worker()
	for i := range n {
		if err := p.create(ParityPath(base, i), check); err != nil {
			p.Abort()
			return nil, err
		}
		p.par = append(p.par, make([]byte, parityChunk))
	}
	for range parityQueue {
		p.free <- &parityJob{b: make([]byte, 0, parityChunk)}
	}
	return p, nil
}

// create starts parity volume path, and opens its .partial a second time
// for reading back what the worker adds to.
func (p *ParityWriter) create(path string, check func(string) error) error {
	out, err := fsx.CreateOutput(path, fsx.OutputOptions{FilesOnly: true, FilesOnlyWhy: splitNeedsFiles, Unnamed: true, Check: check})
	if err != nil {
		return err
	}
	p.outs = append(p.outs, out)
	f, err := os.OpenFile(out.File().Name(), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	a, err1 := f.Stat()
	b, err2 := out.File().Stat()
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		f.Close()
		return fmt.Errorf("%s: replaced while opening", out.File().Name())
	}
	p.files = append(p.files, f)
	return nil
}

// Feed adds p, the next bytes of data volume vol (volumes in order from
// 0, each from its start). It copies p.
func (p *ParityWriter) Feed(vol int, b []byte) error {
	if p.err != nil {
		return p.err
	}
	if vol != p.vol {
		if vol != p.vol+1 {
			p.err = fmt.Errorf("parity: data volume %d after %d", vol, p.vol)
			return p.err
		}
		p.flush()
		p.vol, p.off = vol, 0
	}
	if vol >= MaxParityData {
		p.err = fmt.Errorf("more than %d data volumes: parity covers at most %d; use a larger split size", MaxParityData, MaxParityData)
		return p.err
	}
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = <-p.free
			p.cur.vol, p.cur.off, p.cur.b = p.vol, p.off, p.cur.b[:0]
		}
		k := copy(p.cur.b[len(p.cur.b):parityChunk], b)
		p.cur.b = p.cur.b[:len(p.cur.b)+k]
		p.off += int64(k)
		b = b[k:]
		if len(p.cur.b) == parityChunk {
			p.flush()
		}
	}
	return p.workerErr()
}

// flush hands the chunk being filled to the worker.
func (p *ParityWriter) flush() {
	if p.cur != nil && len(p.cur.b) > 0 {
		p.work <- p.cur
	} else if p.cur != nil {
		p.free <- p.cur
	}
	p.cur = nil
}

func (p *ParityWriter) workerErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed != nil && p.err == nil {
		p.err = p.failed
	}
	return p.err
}

// worker adds each chunk to the parity volumes. Volume 0 starts them
// (parity = its contribution), later volumes read, add and write back.
func (p *ParityWriter) worker() {
	defer close(p.done)
	for job := range p.work {
		if p.workerErr() == nil {
			if err := p.add(job); err != nil {
				p.mu.Lock()
				p.failed = err
				p.mu.Unlock()
			}
		}
		p.free <- job
	}
}

func (p *ParityWriter) add(job *parityJob) error {
	m := len(job.b)
	par := make([][]byte, p.n)
	for i, f := range p.files {
		par[i] = p.par[i][:m]
		if job.vol == 0 {
			clear(par[i])
			continue
		}
		k, err := f.ReadAt(par[i], job.off)
		if err != nil && err != io.EOF {
			return fmt.Errorf("read parity volume %s: %w", f.Name(), err)
		}
		clear(par[i][k:]) // beyond what volume 0 wrote: cannot happen, zeros are right
	}
	if err := p.enc.EncodeIdx(job.b, job.vol, par); err != nil {
		return fmt.Errorf("parity of data volume %d: %w", job.vol, err)
	}
	final := p.final(job.vol, job.off)
	for i, f := range p.files {
		if _, err := f.WriteAt(par[i], job.off); err != nil {
			return fmt.Errorf("write parity volume: %w", err) // err names the file
		}
		if final {
			fsx.StartWriteback(f, job.off, int64(m))
		}
	}
	return nil
}

// Expect says how long the stream is expected to be (an estimate is
// fine: it only decides when parity is written back early).
func (p *ParityWriter) Expect(total, split int64) { p.total, p.split = total, split }

// final reports whether the parity chunk at off is complete once data
// volume vol was added to it: vol is the last volume, or the one before
// it and the last does not reach off.
func (p *ParityWriter) final(vol int, off int64) bool {
	if p.total <= 0 || p.split <= 0 {
		return false
	}
	last := int((p.total - 1) / p.split)
	lastLen := p.total - int64(last)*p.split
	return vol == last || vol == last-1 && off >= lastLen
}

// Finish completes the parity for the data volumes written (data, in
// order), appends each parity volume's trailer, fsyncs and hashes it, and
// returns the parity volumes under their final names (still written as
// .partial until Commit).
func (p *ParityWriter) Finish(data []Volume) ([]Volume, error) {
	if p.err == nil {
		p.flush()
	}
	if p.work != nil {
		close(p.work)
		<-p.done
		p.work = nil
	}
	if err := p.workerErr(); err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data) > MaxParityData {
		return nil, fmt.Errorf("parity for %d data volumes: want 1..%d", len(data), MaxParityData)
	}
	t := &parityTrailer{Format: parityFormat, Code: parityCode, Parity: p.n, ShardSize: data[0].Size}
	for _, d := range data {
		t.Volumes = append(t.Volumes, parityVolume{Name: filepath.Base(d.Path), Size: d.Size, Digest: d.Digest})
	}
	// The parity volumes are finished side by side: each is read back to
	// be hashed, then fsynced.
	vols := make([]Volume, len(p.files))
	errs := make([]error, len(p.files))
	var wg sync.WaitGroup
	for i, f := range p.files {
		ti := *t
		ti.Index = i
		wg.Go(func() {
			vols[i], errs[i] = finishParityFile(f, &ti)
			if errs[i] == nil {
				errs[i] = p.outs[i].Close() // fsync
			}
			vols[i].Path = ParityPath(p.base, i)
		})
	}
	wg.Wait()
	p.files = nil
	if err := errors.Join(errs...); err != nil {
		p.err = err
		return nil, err
	}
	p.vols = vols
	return p.vols, nil
}

// finishParityFile checks f holds exactly the shard, hashes it, appends
// t's trailer and closes f (the caller fsyncs).
func finishParityFile(f *os.File, t *parityTrailer) (Volume, error) {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Volume{}, err
	}
	if fi.Size() != t.ShardSize {
		return Volume{}, fmt.Errorf("parity volume %s: %d bytes, expected %d", f.Name(), fi.Size(), t.ShardSize)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, t.ShardSize), make([]byte, copyBufferSize)); err != nil {
		return Volume{}, fmt.Errorf("hash parity volume %s: %w", f.Name(), err)
	}
	tail := encodeTrailer(t)
	h.Write(tail)
	if _, err := f.WriteAt(tail, t.ShardSize); err != nil {
		return Volume{}, fmt.Errorf("write parity volume: %w", err)
	}
	if err := f.Close(); err != nil {
		return Volume{}, fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return Volume{Size: t.ShardSize + int64(len(tail)), Digest: digest.NewDigest(digest.SHA256, h)}, nil
}

// Commit renames every parity volume from .partial to its final name
// (fsx.Output.Commit: fsync, rename, directory fsync) and removes parity
// volumes beyond N left by an earlier export to the same name.
func (p *ParityWriter) Commit() error {
	if p.vols == nil {
		return errors.New("parity: Commit before Finish")
	}
	for _, out := range p.outs {
		if err := out.Commit(); err != nil {
			return err
		}
	}
	return removeStaleParity(p.base, p.n)
}

// Abort stops the worker and removes every parity volume not committed.
func (p *ParityWriter) Abort() error {
	if p.work != nil {
		p.cur = nil
		close(p.work)
		<-p.done
		p.work = nil
	}
	for _, f := range p.files {
		f.Close()
	}
	p.files = nil
	var errs []error
	for _, out := range p.outs {
		errs = append(errs, out.Abort())
	}
	p.err = errors.New("parity aborted")
	return errors.Join(errs...)
}

// removeStaleParity removes base.parP for P >= from: parity volumes an
// earlier export to the same name left, which would not match the new
// data volumes. As for stale data volumes, only regular files and
// symlinks (the link itself) are removed; anything else is left.
func removeStaleParity(base string, from int) error {
	for i := from; i < MaxParity; i++ {
		if err := removeFile(ParityPath(base, i)); err != nil {
			return fmt.Errorf("remove stale parity volume: %w", err)
		}
	}
	return nil
}

// removeFile removes path if it is a regular file or a symlink (the link
// itself); nothing there, or anything else, is not an error.
func removeFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
