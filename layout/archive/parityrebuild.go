package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/reedsolomon"

	"github.com/opencontainers/go-digest"
)

// rebuildOut is where a rebuilt shard goes.
type rebuildOut struct {
	shard int
	f     *os.File
}

// rebuild writes the shards outs names, computing them chunk by chunk
// from k usable shards (data volumes first) read side by side, each once,
// front to back: memory is (lost data + 2N + 1) chunks of 1 MiB, whatever
// the size of the volumes. Every shard read is hashed as it is read, and
// so is every other usable shard when checkAll (repair checks the whole
// set; it then also recomputes the parity from the data and compares it
// with every parity volume read, so wrong parity is found even without a
// sidecar). At the end each shard read is compared with its expected
// digest. Shards that do not match are returned as bad (marked lost, with
// the reason) and the outputs are then worthless: the caller retries
// without them. Rebuilt shards are checked the same way (a mismatch there
// means a parity volume is wrong in a way no digest showed: an error).
// sums holds the digest of every shard read or written.
func (s *paritySet) rebuild(ctx context.Context, outs []rebuildOut, checkAll bool) (sums map[int]digest.Digest, bad []int, err error) {
	r, err := s.newRebuilder(outs, checkAll)
	if err != nil || r == nil {
		return nil, nil, err
	}
	defer r.close()
	if bad := r.open(); bad != nil {
		return nil, bad, nil
	}
	for off := int64(0); off < s.ref.ShardSize; off += parityChunk {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if bad, err := r.step(off, int(min(parityChunk, s.ref.ShardSize-off))); bad != nil || err != nil {
			return nil, bad, err
		}
	}
	return r.finish()
}

// rebuilder is one pass of rebuild.
type rebuilder struct {
	s        *paritySet
	codec    reedsolomon.Encoder
	outs     []rebuildOut
	inputs   []int  // the k shards decoded from
	extra    []int  // other usable shards, read to be checked (checkAll)
	expect   []bool // inputs, as DecodeIdx wants them
	readers  map[int]*shardReader
	written  map[int]hash.Hash
	dst      [][]byte // lost data shards being decoded, nil elsewhere
	enc      [][]byte // parity recomputed from the data, when needed
	got      [][]byte // parity chunks read (checkAll), by parity index
	buf      []byte
	decode   bool
	check    bool
	mismatch map[int]int64 // parity shard → first offset where it differs from the data's parity
}

// newRebuilder picks the inputs; nil, nil when there is nothing to read.
func (s *paritySet) newRebuilder(outs []rebuildOut, checkAll bool) (*rebuilder, error) {
	codec, err := newParityCodec(s.k, s.n)
	if err != nil {
		return nil, err
	}
	total := s.k + s.n
	r := &rebuilder{s: s, codec: codec, outs: outs, expect: make([]bool, total), readers: map[int]*shardReader{},
		written: map[int]hash.Hash{}, dst: make([][]byte, total), buf: make([]byte, parityChunk), check: checkAll, mismatch: map[int]int64{}}
	want := make([]bool, total)
	encode := checkAll
	for _, o := range outs {
		want[o.shard] = true
		r.written[o.shard] = sha256.New()
		if o.shard < s.k {
			r.dst[o.shard] = make([]byte, parityChunk)
			r.decode = true
		} else {
			encode = true
		}
	}
	for i, sh := range s.shards {
		switch {
		case sh.problem != "" || want[i]:
		case len(r.inputs) < s.k:
			r.inputs = append(r.inputs, i)
			r.expect[i] = true
		case checkAll:
			r.extra = append(r.extra, i)
		}
	}
	if len(r.inputs) < s.k {
		return nil, s.lostError()
	}
	if encode {
		r.enc = make([][]byte, s.n)
		for p := range r.enc {
			r.enc[p] = make([]byte, parityChunk)
		}
	}
	if checkAll {
		r.got = make([][]byte, s.n)
		for _, i := range append(append([]int{}, r.inputs...), r.extra...) {
			if i >= s.k {
				r.got[i-s.k] = make([]byte, parityChunk)
			}
		}
	}
	return r, nil
}

// open opens every shard to read; one that cannot be opened is bad.
func (r *rebuilder) open() []int {
	for _, i := range append(append([]int{}, r.inputs...), r.extra...) {
		f, err := openRegularPath(r.s.shards[i].path)
		if err != nil {
			return r.s.unreadable(i, err)
		}
		r.readers[i] = &shardReader{f: f, h: sha256.New(), size: r.s.dataSize(i)}
	}
	return nil
}

func (r *rebuilder) close() {
	for _, sr := range r.readers {
		sr.f.Close()
	}
}

// cut is b's non-nil slices cut to m bytes and zeroed.
func cut(b [][]byte, m int) [][]byte {
	if b == nil {
		return nil
	}
	out := make([][]byte, len(b))
	for i := range b {
		if b[i] != nil {
			out[i] = b[i][:m]
			clear(out[i])
		}
	}
	return out
}

// step handles the m bytes of every shard at off.
func (r *rebuilder) step(off int64, m int) ([]int, error) {
	s := r.s
	dst, enc := cut(r.dst, m), cut(r.enc, m)
	in := make([][]byte, len(r.dst))
	read := func(i int) ([]byte, error) {
		b := r.buf[:m]
		if i >= s.k && r.got != nil {
			b = r.got[i-s.k][:m]
		}
		return b, r.readers[i].chunk(b, off)
	}
	for _, i := range r.inputs {
		b, err := read(i)
		if err != nil {
			return s.unreadable(i, err), nil
		}
		if r.decode {
			in[i] = b
			if err := r.codec.(reedsolomon.Extensions).DecodeIdx(dst, r.expect, in); err != nil {
				return nil, fmt.Errorf("rebuild: %w", err)
			}
			in[i] = nil
		}
		if enc != nil && i < s.k {
			if err := r.codec.EncodeIdx(b, i, enc); err != nil {
				return nil, fmt.Errorf("rebuild parity: %w", err)
			}
		}
	}
	for _, i := range r.extra {
		if _, err := read(i); err != nil {
			return s.unreadable(i, err), nil
		}
	}
	for j := range s.k {
		if dst[j] != nil && enc != nil {
			if err := r.codec.EncodeIdx(dst[j], j, enc); err != nil {
				return nil, fmt.Errorf("rebuild parity: %w", err)
			}
		}
	}
	for p, g := range r.got {
		if _, seen := r.mismatch[s.k+p]; g != nil && !seen && !bytes.Equal(g[:m], enc[p]) {
			r.mismatch[s.k+p] = off
		}
	}
	for _, o := range r.outs {
		var b []byte
		if o.shard < s.k {
			b = dst[o.shard][:max(0, min(int64(m), s.dataSize(o.shard)-off))]
		} else {
			b = enc[o.shard-s.k]
		}
		if _, err := o.f.Write(b); err != nil {
			return nil, fmt.Errorf("write rebuilt volume: %w", err)
		}
		r.written[o.shard].Write(b)
	}
	return nil, nil
}

// finish checks every shard read against its digest, then the parity
// recomputed from the data, then the rebuilt shards.
func (r *rebuilder) finish() (map[int]digest.Digest, []int, error) {
	s := r.s
	sums := map[int]digest.Digest{}
	var bad []int
	for i, sr := range r.readers {
		if err := sr.finish(); err != nil {
			return nil, s.unreadable(i, err), nil
		}
		got := digest.NewDigest(digest.SHA256, sr.h)
		sums[i] = got
		if want := s.shards[i].digest; want != "" && got != want {
			s.shards[i].problem = fmt.Sprintf("corrupted: content is %s, expected %s", got, want)
			bad = append(bad, i)
		}
	}
	if len(bad) == 0 {
		for i, off := range r.mismatch {
			s.shards[i].problem = fmt.Sprintf("parity bytes from offset %d do not match the data volumes (corrupted, or computed from other data)", off)
			bad = append(bad, i)
		}
	}
	if len(bad) > 0 {
		sort.Ints(bad)
		return nil, bad, nil
	}
	for _, o := range r.outs {
		h := r.written[o.shard]
		if o.shard >= s.k {
			tail := encodeTrailer(s.ref.withIndex(o.shard - s.k))
			if _, err := o.f.Write(tail); err != nil {
				return nil, nil, fmt.Errorf("write rebuilt volume: %w", err)
			}
			h.Write(tail)
		}
		got := digest.NewDigest(digest.SHA256, h)
		sums[o.shard] = got
		if want := s.shards[o.shard].digest; want != "" && got != want {
			return nil, nil, fmt.Errorf("rebuilt %s is %s, expected %s: a parity volume is wrong although its digest showed nothing (no sidecar to check it against?): %w",
				filepath.Base(s.shards[o.shard].path), got, want, ErrUnrecoverable)
		}
	}
	return sums, nil, nil
}

// unreadable marks shard i lost because reading it failed (a damaged
// medium's EIO, a file cut short) and returns it as the bad one.
func (s *paritySet) unreadable(i int, err error) []int {
	s.shards[i].problem = fmt.Sprintf("unreadable (%v)", err)
	return []int{i}
}

// dataSize is how many bytes of shard i are real: a data volume's size (the
// last one is shorter, padded with zeros virtually), a parity volume's
// whole shard.
func (s *paritySet) dataSize(i int) int64 {
	if i < s.k {
		return s.ref.Volumes[i].Size
	}
	return s.ref.ShardSize
}

// shardReader reads one shard front to back, hashing what it reads.
type shardReader struct {
	f    *os.File
	h    hash.Hash
	size int64 // real bytes in the shard region
	n    int64 // read so far
}

// chunk reads the shard's bytes at off into b (off must be where the last
// read ended), zero-filling beyond the shard's real bytes.
func (r *shardReader) chunk(b []byte, off int64) error {
	real := max(0, min(int64(len(b)), r.size-off))
	if _, err := io.ReadFull(r.f, b[:real]); err != nil {
		return err
	}
	r.h.Write(b[:real])
	r.n += real
	clear(b[real:])
	return nil
}

// finish hashes whatever follows the shard region (a parity volume's
// trailer), so the digest covers the whole file.
func (r *shardReader) finish() error {
	_, err := io.Copy(r.h, r.f)
	return err
}
