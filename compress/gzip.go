package compress

import (
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
)

// gzipBlockSize is fixed: pgzip's output depends on the block size (each
// block is compressed with the previous block's tail as dictionary) but
// not on how many blocks are in flight.
const gzipBlockSize = 1 << 20

func newGzipWriter(w io.Writer, o Options) (io.WriteCloser, error) {
	level := o.Level
	if level == LevelStore {
		level = pgzip.NoCompression
	}
	zw, err := pgzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	if err := zw.SetConcurrency(gzipBlockSize, max(o.Concurrency, 1)*2); err != nil {
		return nil, err
	}
	return zw, nil
}

// newGzipReader decodes (multi-member) gzip single-threaded: pgzip's
// read-ahead buys little and holds more memory.
func newGzipReader(r io.Reader) (io.ReadCloser, error) {
	return gzip.NewReader(r)
}
