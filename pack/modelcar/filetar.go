package modelcar

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oci-pack/oci-pack/layout"
)

// Tar blocks: every header and the end of each file's data is padded to
// blockSize; two zero blocks end the archive.
const (
	blockSize = 512
	endBlocks = 2 * blockSize
)

// Normalised modes: what a layer records whatever the file's own mode.
const (
	ModeDir  = 0o755
	ModeFile = 0o644
	ModeExec = 0o755 // a file with any execute bit
)

// FileTar is the uncompressed tar layer that carries one file: Prefix (the
// headers of the mount directory, of each parent directory of the file,
// and of the file itself), then the file's Size bytes, then Suffix zero
// bytes (padding to a block, and the two zero blocks that end a tar). Its
// bytes depend only on the file's path, size, executable bit, the mtime
// and the file's bytes: uid/gid 0, no user or group names, normalised
// modes (ModeDir, ModeFile, ModeExec), entries in path order, PAX records
// only where ustar cannot hold a name or size.
type FileTar struct {
	Name   string // the file's path in the tar: mount directory + "/" + title
	Size   int64  // the file's size in bytes
	Prefix []byte
	Suffix int64
}

// NewFileTar makes the FileTar of a file of size bytes called title
// (a clean, relative, slash-separated path) under mountDir (see
// CleanMountDir). A mode with any execute bit gives ModeExec, else
// ModeFile; a zero mtime means the Unix epoch. Errors wrap
// layout.ErrInvalidArgument.
func NewFileTar(mountDir, title string, size int64, mode fs.FileMode, mtime time.Time) (*FileTar, error) {
	dir, err := CleanMountDir(mountDir)
	if err != nil {
		return nil, err
	}
	if err := checkTitle(title); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: %s: negative size %d", layout.ErrInvalidArgument, title, size)
	}
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	name := dir + "/" + title
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range parents(name) {
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: ModeDir, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("%w: tar header for %s: %v", layout.ErrInvalidArgument, d, err)
		}
	}
	fmode := int64(ModeFile)
	if mode&0o111 != 0 {
		fmode = ModeExec
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: fmode, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("%w: tar header for %s: %v", layout.ErrInvalidArgument, name, err)
	}
	// tw is abandoned here: the data and the end blocks are the caller's
	// (Suffix), so that the file's bytes can stream past.
	return &FileTar{Name: name, Size: size, Prefix: bytes.Clone(buf.Bytes()), Suffix: SuffixSize(size)}, nil
}

// SuffixSize is the number of zero bytes that follow a file of size bytes
// at the end of a tar written by archive/tar: padding to a whole block,
// then two zero blocks.
func SuffixSize(size int64) int64 {
	return (blockSize-size%blockSize)%blockSize + endBlocks
}

// TarSize is the size of the whole layer.
func (t *FileTar) TarSize() int64 { return int64(len(t.Prefix)) + t.Size + t.Suffix }

// WriteSuffix writes the Suffix zero bytes to w.
func (t *FileTar) WriteSuffix(w io.Writer) error {
	var zeros [blockSize]byte
	for left := t.Suffix; left > 0; {
		n := min(left, int64(len(zeros)))
		if _, err := w.Write(zeros[:n]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// parents lists the directories above name, outermost first: "a/b/c" gives
// "a", "a/b".
func parents(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			out = append(out, name[:i])
		}
	}
	return out
}

// checkTitle refuses a title that is not a clean relative slash path.
func checkTitle(title string) error {
	switch {
	case title == "" || !utf8.ValidString(title) || strings.ContainsAny(title, "\\\x00"):
		return fmt.Errorf("%w: file name %q cannot be put in an image layer", layout.ErrInvalidArgument, title)
	case path.Clean(title) != title || path.IsAbs(title) || title == "." || title == ".." || strings.HasPrefix(title, "../"):
		return fmt.Errorf("%w: file name %q is not a clean relative path", layout.ErrInvalidArgument, title)
	}
	return nil
}
