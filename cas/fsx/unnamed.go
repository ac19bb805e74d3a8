package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// OpenUnnamed opens path for reading when the user did not name it
// (RELIABILITY I15): a file the tool looks for beside one the user named —
// a sidecar FILE.sha256, a further volume FILE.001 — or private state. A
// symlink is followed, but what it reaches must be a regular file: a FIFO,
// a device, a directory or a socket is refused before it is opened (a FIFO
// would block the open, /dev/zero would never end), and the open itself
// is non-blocking in case the name is swapped in between. The FileInfo is
// the open file's, so a read can be bounded by the size it had when
// opened (see LimitReader).
func OpenUnnamed(path string) (*os.File, fs.FileInfo, error) {
	before, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, FileKind(before.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|ONonblock|oNoctty, 0)
	if err != nil {
		return nil, nil, err
	}
	after, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !after.Mode().IsRegular() || !os.SameFile(before, after) {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (replaced while opening)", path, ErrNotRegular)
	}
	return f, after, nil
}

// OpenDir opens directory rel under r for reading its entries or
// fsyncing it, without blocking if the name has been swapped for a FIFO,
// and refusing anything but a directory.
func OpenDir(r *os.Root, rel string) (*os.File, error) {
	f, err := r.OpenFile(rel, os.O_RDONLY|ONonblock|oDirectory, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("%s: not a directory (%s)", rel, FileKind(fi.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ErrTooLong: a read went past the size the plan or the file declared.
var ErrTooLong = errors.New("longer than declared")

// LimitReader reads at most n bytes from r and then, unlike
// io.LimitReader, checks that r has ended: a byte beyond n is an error
// wrapping ErrTooLong that names what was read, not silently more data
// and never an endless read (a file that grows while read, a device).
func LimitReader(r io.Reader, n int64, name string) io.Reader {
	return &limitReader{r: r, left: n, n: n, name: name}
}

type limitReader struct {
	r    io.Reader
	left int64
	n    int64
	name string
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%s: %w (more than %d bytes)", l.name, ErrTooLong, l.n)
		}
		if err == nil {
			err = io.EOF // a reader that returns 0, nil at its end
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
