package archive

import (
	"crypto/sha256"
	"hash"

	"github.com/opencontainers/go-digest"
)

const (
	bgBuffers = 4
	bgBufSize = 1 << 20
)

// bgHash computes a sha256 on its own goroutine, so hashing a stream for
// its sidecar overlaps the work of the goroutine producing or consuming
// the stream (blob hashing, compression, I/O) instead of adding to it.
// Write copies, so callers may reuse their buffers. Memory: bgBuffers ×
// bgBufSize.
type bgHash struct {
	h    hash.Hash
	cur  []byte // being filled
	work chan []byte
	free chan []byte
	done chan struct{}
}

func newBgHash() *bgHash {
	b := &bgHash{h: sha256.New(), work: make(chan []byte, bgBuffers), free: make(chan []byte, bgBuffers), done: make(chan struct{})}
	for range bgBuffers {
		b.free <- make([]byte, 0, bgBufSize)
	}
	go func() {
		for buf := range b.work {
			b.h.Write(buf)
			b.free <- buf[:0]
		}
		close(b.done)
	}()
	return b
}

// Write queues p for hashing.
func (b *bgHash) Write(p []byte) {
	for len(p) > 0 {
		if b.cur == nil {
			b.cur = <-b.free
		}
		n := copy(b.cur[len(b.cur):cap(b.cur)], p)
		b.cur = b.cur[:len(b.cur)+n]
		p = p[n:]
		if len(b.cur) == cap(b.cur) {
			b.work <- b.cur
			b.cur = nil
		}
	}
}

// Sum waits for every queued byte to be hashed and returns the digest.
// It stops the goroutine; the bgHash must not be used afterwards.
func (b *bgHash) Sum() digest.Digest {
	if len(b.cur) > 0 {
		b.work <- b.cur
	}
	b.cur = nil
	close(b.work)
	<-b.done
	return digest.NewDigest(digest.SHA256, b.h)
}
