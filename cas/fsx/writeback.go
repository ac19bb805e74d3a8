package fsx

import "os"

// writebackChunk is how many written bytes accumulate before the kernel is
// asked to start writing them out (startWriteback).
const writebackChunk = 8 << 20

// WritebackFile writes to F sequentially from offset 0 and, every 8 MiB,
// asks the kernel to start writing those bytes to disk without waiting
// (Linux; elsewhere a plain write). A file that will be fsynced anyway —
// a staged blob, an extracted file — then reaches its fsync with little
// left to write, and the disk works while the CPU hashes what comes next.
// It does not make anything durable: the fsync still does.
type WritebackFile struct {
	F          *os.File
	n, flushed int64
}

func (w *WritebackFile) Write(p []byte) (int, error) {
	n, err := w.F.Write(p)
	w.n += int64(n)
	if w.n-w.flushed >= writebackChunk {
		startWriteback(w.F, w.flushed, w.n-w.flushed)
		w.flushed = w.n
	}
	return n, err
}

// WritebackFileAt is a WritebackFile for F whose next write lands at off
// (a staging file resumed after off bytes).
func WritebackFileAt(f *os.File, off int64) WritebackFile {
	return WritebackFile{F: f, n: off, flushed: off}
}
