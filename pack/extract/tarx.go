package extract

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
)

// copyBufferSize is the buffer each layer copies file data through.
const copyBufferSize = 1 << 20

// sniffLimit bounds the bytes decompressed to read a layer's first tar
// header when deciding what the layer is.
const sniffLimit = 1 << 20

// sniffTar reads the start of a blob and returns its first tar entry's
// cleaned name, with the compression used (alg, or what the magic bytes
// say when alg is None). ok is false when the blob does not start as a
// tar. The bytes are not verified; they only inform the decision, and a
// corrupt blob fails later when it is read in full.
func (x *extraction) sniffTar(ctx context.Context, desc ocispec.Descriptor, alg compress.Algorithm) (string, compress.Algorithm, bool) {
	f, err := x.l.Blobs().Open(ctx, desc.Digest)
	if err != nil {
		return "", alg, false
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, desc.Size))
	if alg == compress.None {
		head, _ := br.Peek(4)
		alg = compress.Sniff(head)
	}
	zr, err := compress.NewReader(br, alg, sniffLimit)
	if err != nil {
		return "", alg, false
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for range 4 {
		hdr, err := tr.Next()
		if err != nil {
			return "", alg, false
		}
		if hdr.Typeflag != tar.TypeXGlobalHeader {
			return path.Clean(hdr.Name), alg, true
		}
	}
	return "", alg, false
}

// writeRaw stages a raw-file layer under its title.
func (x *extraction) writeRaw(ctx context.Context, lp *layerPlan, tr layout.ProgressItem) error {
	s, err := x.openStream(ctx, lp, tr)
	if err != nil {
		return err
	}
	defer s.close()
	full := join(lp.m.prefix, lp.title)
	if err := x.mkdirParent(full); err != nil {
		return err
	}
	n, err := x.createFile(full, s.r, 0o644, false, make([]byte, copyBufferSize))
	if err != nil {
		return s.fail(err)
	}
	if err := s.finish(); err != nil {
		return err
	}
	x.record(File{Path: full, Size: n, Type: "file"})
	return nil
}

// unpackTar stages a tar layer. Every entry must lie under the layer's
// title (as oras requires) and is checked before it is written; the
// blob's digest and diffID are checked at its end.
func (x *extraction) unpackTar(ctx context.Context, lp *layerPlan, tr layout.ProgressItem) error {
	s, err := x.openStream(ctx, lp, tr)
	if err != nil {
		return err
	}
	defer s.close()
	r := tar.NewReader(s.r)
	buf := make([]byte, copyBufferSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s.fail(err)
		}
		if err := x.unpackEntry(lp, hdr, r, buf); err != nil {
			return s.fail(err)
		}
	}
	return s.finish()
}

// unpackEntry stages one tar entry of an artifact layer (RELIABILITY I9,
// E-47): names must be local and under the title; symlinks must point
// inside the manifest's directory; hardlinks only to a regular file this
// layer already wrote; no devices or FIFOs; permission bits kept,
// setuid/setgid/sticky dropped. Claims make anything below a symlink (or
// file) an error, so nothing is written through a link.
func (x *extraction) unpackEntry(lp *layerPlan, hdr *tar.Header, r io.Reader, buf []byte) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return fmt.Errorf("%s entry %q %v: %w", lp.who, hdr.Name, err, ErrUnsafe)
	}
	if !under(name, lp.title) {
		return fmt.Errorf("%s entry %q is outside the layer's title %q: %w", lp.who, hdr.Name, lp.title, ErrUnsafe)
	}
	if !x.match.match(name) {
		return nil
	}
	full := join(lp.m.prefix, name)
	perm := fs.FileMode(hdr.Mode).Perm()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := x.claims.add(full, &claim{kind: kindDir, layer: lp}); err != nil {
			return err
		}
		if err := x.root.MkdirAll(path.Join(x.stage, full), 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", x.display(full), err)
		}
		x.mu.Lock()
		x.dirModes[full] = perm
		x.mu.Unlock()
	case tar.TypeReg:
		if err := x.claims.add(full, &claim{kind: kindFile, layer: lp, size: hdr.Size}); err != nil {
			return err
		}
		if err := x.mkdirParent(full); err != nil {
			return err
		}
		n, err := x.createFile(full, r, perm, true, buf)
		if err != nil {
			return err
		}
		x.record(File{Path: full, Size: n, Type: "file"})
	case tar.TypeSymlink:
		if !symlinkInside(name, hdr.Linkname) {
			return fmt.Errorf("%s entry %q: symlink to %q escapes the extraction directory: %w", lp.who, hdr.Name, hdr.Linkname, ErrUnsafe)
		}
		if err := x.claims.add(full, &claim{kind: kindSymlink, layer: lp, target: hdr.Linkname, base: lp.m.prefix}); err != nil {
			return err
		}
		if err := x.mkdirParent(full); err != nil {
			return err
		}
		if err := x.root.Symlink(hdr.Linkname, path.Join(x.stage, full)); err != nil {
			return fmt.Errorf("create symlink %s: %w", x.display(full), err)
		}
		x.record(File{Path: full, Size: int64(len(hdr.Linkname)), Type: "symlink"})
	case tar.TypeLink:
		return x.hardlink(lp, hdr, full)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%s entry %q is a %s: device nodes and FIFOs are never extracted: %w", lp.who, hdr.Name, fsx.TarTypeName(hdr.Typeflag), ErrUnsafe)
	default:
		return fmt.Errorf("%s entry %q has unsupported tar type %q: %w", lp.who, hdr.Name, hdr.Typeflag, ErrUnsafe)
	}
	return nil
}

// hardlink stages a hardlink entry: its target must be a regular file this
// same layer already wrote (resolved inside the staging root, never
// against the working directory or through a symlink).
func (x *extraction) hardlink(lp *layerPlan, hdr *tar.Header, full string) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("%s entry %q: hardlink target %q %v: %w", lp.who, hdr.Name, hdr.Linkname, err, ErrUnsafe)
	}
	if !under(target, lp.title) {
		return fmt.Errorf("%s entry %q: hardlink target %q is outside the layer's title %q: %w", lp.who, hdr.Name, hdr.Linkname, lp.title, ErrUnsafe)
	}
	tfull := join(lp.m.prefix, target)
	tc, ok := x.claims.get(tfull)
	if !ok && !x.match.match(target) {
		return fmt.Errorf("%s entry %q is a hardlink to %q, which the include patterns leave out; include both", lp.who, hdr.Name, hdr.Linkname)
	}
	if !ok || tc.kind != kindFile || tc.layer != lp {
		return fmt.Errorf("%s entry %q: hardlink target %q is not a regular file written earlier by this layer: %w", lp.who, hdr.Name, hdr.Linkname, ErrUnsafe)
	}
	if err := x.claims.add(full, &claim{kind: kindFile, layer: lp, size: tc.size}); err != nil {
		return err
	}
	if err := x.mkdirParent(full); err != nil {
		return err
	}
	if err := x.root.Link(path.Join(x.stage, tfull), path.Join(x.stage, full)); err != nil {
		return fmt.Errorf("create hardlink %s: %w", x.display(full), err)
	}
	x.record(File{Path: full, Size: tc.size, Type: "hardlink"})
	return nil
}

// mkdirParent creates the staged parent directories of full.
func (x *extraction) mkdirParent(full string) error {
	dir := path.Dir(full)
	if dir == "." {
		return nil
	}
	if err := x.root.MkdirAll(path.Join(x.stage, dir), 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", x.display(dir), err)
	}
	return nil
}

// createFile stages a new regular file (never an existing one: O_EXCL)
// with r's bytes, sets its mode when chmod is set (umask does not apply),
// and fsyncs it.
func (x *extraction) createFile(full string, r io.Reader, mode fs.FileMode, chmod bool, buf []byte) (int64, error) {
	f, err := x.root.OpenFile(path.Join(x.stage, full), os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", x.display(full), err)
	}
	n, err := io.CopyBuffer(&fsx.WritebackFile{F: f}, r, buf)
	if err == nil && chmod {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var se streamError
		if errors.As(err, &se) {
			return n, err
		}
		return n, fmt.Errorf("write %s: %w", x.display(full), err)
	}
	return n, nil
}

// display names a path in Dir for messages.
func (x *extraction) display(full string) string {
	return path.Join(slashDir(x.o.Dir), full)
}
