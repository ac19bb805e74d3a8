package pack

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// TarOptions make a directory tar reproducible.
type TarOptions struct {
	// MTime is every entry's modification time (zero value: the Unix epoch).
	MTime time.Time
	// Exclude, if set, is a directory (by identity, not name) left out of
	// the walk — the output layout when it sits inside the input (C-36).
	Exclude os.FileInfo
	// OnExclude is told the slash path of what Exclude skipped.
	OnExclude func(rel string)
	// PreserveMode keeps each entry's permission bits as they are on disk.
	// By default they are normalised as git does — 0644 for files, 0755
	// for directories and for files with any execute bit, 0777 for
	// symlinks — so the tar does not depend on the umask it was made under.
	PreserveMode bool
	// ignore leaves out paths by exclude patterns (nil: none).
	ignore *ignorer
}

// tarMode is the permission bits an entry of mode m gets in the tar.
func (o TarOptions) tarMode(m fs.FileMode) int64 {
	switch {
	case o.PreserveMode:
		return int64(m.Perm())
	case m.IsDir():
		return 0o755
	case m&fs.ModeSymlink != 0:
		return 0o777
	case m&0o111 != 0:
		return 0o755
	}
	return 0o644
}

// entry is one file met walking a directory.
type entry struct {
	name string // tar name: prefix + "/" + relative slash path
	path string // host path
	info os.FileInfo
}

// dirEntries walks dir (never following symlinks) and returns its entries
// named under prefix, in byte-wise order of their names, the directory
// itself first. Device files, FIFOs and sockets are refused.
func dirEntries(ctx context.Context, dir, prefix string, o TarOptions) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if d.IsDir() && o.Exclude != nil && os.SameFile(info, o.Exclude) {
			if o.OnExclude != nil {
				o.OnExclude(filepath.ToSlash(p))
			}
			return fs.SkipDir
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if o.ignore.ignored(filepath.ToSlash(rel), d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := prefix
		if rel != "." {
			name = path.Join(prefix, filepath.ToSlash(rel))
		}
		switch m := info.Mode(); {
		case m.IsRegular(), m.IsDir(), m&fs.ModeSymlink != 0:
		default:
			return fmt.Errorf("unsupported file type %s: %s", fsx.FileKind(m), p)
		}
		out = append(out, entry{name: name, path: p, info: info})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// writeTar writes entries as a reproducible tar: uid/gid 0, no user or
// group names, one fixed mtime, permission bits normalised (tarMode; never
// setuid, setgid or sticky), symlinks as symlinks, PAX records where ustar cannot hold a
// name. A regular file must still have the size it had when walked.
func writeTar(ctx context.Context, w io.Writer, entries []entry, o TarOptions, buf []byte, onBytes func(int64)) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr := &tar.Header{
			Name:    e.name,
			Mode:    o.tarMode(e.info.Mode()),
			ModTime: o.MTime,
		}
		switch m := e.info.Mode(); {
		case m.IsDir():
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(e.path)
			if err != nil {
				return fmt.Errorf("read symlink %s: %w", e.path, err)
			}
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = target
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = e.info.Size()
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar header for %s: %w", e.path, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if err := copyFileExactly(tw, e.path, hdr.Size, buf, onBytes); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// ErrChanged: an input file changed size while it was being packed.
var ErrChanged = errors.New("file changed while packing")

func copyFileExactly(w io.Writer, p string, size int64, buf []byte, onBytes func(int64)) error {
	f, err := openInput(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(w, progressReader{io.LimitReader(f, size), onBytes}, buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	if n != size {
		return fmt.Errorf("%s: %w (%d bytes read, %d when listed)", p, ErrChanged, n, size)
	}
	var one [1]byte
	if k, _ := f.Read(one[:]); k > 0 {
		return fmt.Errorf("%s: %w (grew beyond %d bytes)", p, ErrChanged, size)
	}
	return nil
}

type progressReader struct {
	r  io.Reader
	on func(int64)
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 && p.on != nil {
		p.on(int64(n))
	}
	return n, err
}
