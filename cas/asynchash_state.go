package cas

import (
	"encoding"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// State waits for every byte written so far to be hashed and returns the
// hash state after them (see RestoreAsyncHash). Writing may continue.
// A resumed import keeps it for the volume it was checking against its
// sidecar, so a re-run need not read that volume's first bytes again.
func (a *AsyncHash) State() ([]byte, error) {
	if len(a.cur) > 0 {
		a.work <- a.cur
		a.cur = nil
	}
	// Every buffer back in free means the goroutine has hashed them all
	// and waits for more: h is ours to read until one is queued again.
	held := make([][]byte, 0, asyncBuffers)
	for range asyncBuffers {
		held = append(held, <-a.free)
	}
	defer func() {
		for _, b := range held {
			a.free <- b
		}
	}()
	m, ok := a.h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("%s hash state cannot be saved", a.alg)
	}
	return m.MarshalBinary()
}

// RestoreAsyncHash starts an AsyncHash of alg in the state st (from
// State): as if the bytes hashed then had been written to it.
func RestoreAsyncHash(alg digest.Algorithm, st []byte) (*AsyncHash, error) {
	a := NewAsyncHash(alg)
	u, ok := a.h.(encoding.BinaryUnmarshaler)
	if !ok {
		a.Close()
		return nil, fmt.Errorf("%s hash state cannot be restored", alg)
	}
	// Nothing is queued yet, so the goroutine does not touch h.
	if err := u.UnmarshalBinary(st); err != nil {
		a.Close()
		return nil, fmt.Errorf("hash state: %w", err)
	}
	return a, nil
}
