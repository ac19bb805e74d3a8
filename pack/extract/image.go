//go:build !windows

package extract

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
	"strings"
	"syscall"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/umoci/oci/layer"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// unpackImage unpacks a container image's layers, in order, as one root
// filesystem into the manifest's staging directory, with umoci's layer
// unpacker: whiteouts apply, and umoci confines every path, symlink and
// hardlink to the rootfs. It always runs umoci in rootless mode (as
// `umoci unpack --rootless`), so it works unprivileged and the files belong
// to the user running oci-pack. Each layer is sanitised before umoci sees
// it (I9): ownership, xattrs and setuid/setgid/sticky bits are dropped and
// device nodes and FIFOs are skipped with a warning. Symlink targets are
// kept verbatim: in a root filesystem an absolute target means the rootfs's
// own root. The blob digest and the config's diffID are checked at the end
// of each layer; the staged rootfs is committed only if all pass.
func (x *extraction) unpackImage(ctx context.Context, mp *manifestPlan, prog layout.Progress) error {
	staged := path.Join(x.stage, mp.prefix)
	if err := x.root.MkdirAll(staged, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", x.display(mp.prefix), err)
	}
	rootfs := filepath.Join(x.o.Dir, filepath.FromSlash(staged))
	opts := &layer.UnpackOptions{OnDiskFormat: layer.DirRootfs{MapOptions: rootlessMapping()}}
	for _, lp := range mp.layers {
		tr := prog.Start(fmt.Sprintf("%s%s", prefixLabel(mp.prefix), lp.who), lp.desc.Size)
		err := x.unpackImageLayer(ctx, lp, rootfs, opts, tr)
		tr.Done(err)
		if err != nil {
			return err
		}
	}
	return x.recordTree(mp.prefix)
}

func prefixLabel(prefix string) string {
	if prefix == "" {
		return ""
	}
	return prefix + ": "
}

// errStopped tells the sanitiser that umoci stopped reading.
var errStopped = errors.New("unpacker stopped")

func (x *extraction) unpackImageLayer(ctx context.Context, lp *layerPlan, rootfs string, opts *layer.UnpackOptions, tr layout.ProgressItem) error {
	s, err := x.openStream(ctx, lp, tr)
	if err != nil {
		return err
	}
	defer s.close()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := x.sanitize(ctx, lp, tar.NewReader(s.r), pw)
		if err != nil {
			err = s.fail(err)
		} else {
			err = s.finish()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	uerr := layer.UnpackLayer(rootfs, pr, opts)
	if uerr == nil {
		_, _ = io.Copy(io.Discard, pr) // the end-of-archive blocks umoci left
	}
	pr.CloseWithError(errStopped)
	serr := <-done
	switch {
	case serr != nil && !errors.Is(serr, errStopped):
		return serr
	case uerr != nil:
		if verr := s.verifyRest(); verr != nil {
			return verr
		}
		if environmental(uerr) {
			return fmt.Errorf("%s: unpack: %w", lp.who, uerr)
		}
		// The layer is intact, so umoci refused its content (a hardlink to
		// nothing or to a directory, an empty symlink target, a name too
		// long for the file system): a malformed layer, integrity class.
		return fmt.Errorf("%s: unpack: %w: %w", lp.who, uerr, ErrUnsafe)
	}
	return nil
}

// environmental reports an error of the machine rather than of the layer:
// a full or read-only disk, an I/O error, no descriptors or memory left.
func environmental(err error) bool {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// sanitize copies a layer's tar to w, keeping names, types, sizes, modes
// (permission bits only) and mtimes, and dropping everything else.
func (x *extraction) sanitize(ctx context.Context, lp *layerPlan, r *tar.Reader, w io.Writer) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, copyBufferSize)
	var skipped []string
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if n >= MaxEntries {
			return fmt.Errorf("%s: more than %d entries: %w", lp.who, MaxEntries, ErrUnsafe)
		}
		if strings.IndexByte(hdr.Name, 0) >= 0 || strings.IndexByte(hdr.Linkname, 0) >= 0 {
			return fmt.Errorf("%s entry %q: name contains a NUL byte: %w", lp.who, hdr.Name, ErrUnsafe)
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			skipped = append(skipped, name)
			continue
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		default:
			return fmt.Errorf("%s entry %q has unsupported tar type %q: %w", lp.who, hdr.Name, hdr.Typeflag, ErrUnsafe)
		}
		if name == "" && hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("%s entry %q would replace the root directory with a %s: %w", lp.who, hdr.Name, fsx.TarTypeName(hdr.Typeflag), ErrUnsafe)
		}
		if name != "" && !strings.HasPrefix(path.Base(name), ".wh.") && !x.match.match(name) {
			continue
		}
		out := &tar.Header{
			Typeflag: hdr.Typeflag,
			Name:     hdr.Name,
			Linkname: hdr.Linkname,
			Size:     hdr.Size,
			Mode:     hdr.Mode & 0o777,
			ModTime:  hdr.ModTime,
		}
		if err := tw.WriteHeader(out); err != nil {
			return fmt.Errorf("%s entry %q: %w", lp.who, hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.CopyBuffer(tw, r, buf); err != nil {
				return err
			}
		}
	}
	if len(skipped) > 0 {
		list := strings.Join(skipped[:min(len(skipped), 5)], ", ")
		if len(skipped) > 5 {
			list += ", …"
		}
		x.o.Warn(fmt.Sprintf("%s: skipped %d device node(s) or FIFO(s): %s", lp.who, len(skipped), list))
	}
	return tw.Close()
}

// rootlessMapping is what `umoci unpack --rootless` uses: container root
// is the current user, nothing is chowned.
func rootlessMapping() layer.MapOptions {
	return layer.MapOptions{
		Rootless:    true,
		UIDMappings: []rspec.LinuxIDMapping{{HostID: uint32(os.Geteuid()), ContainerID: 0, Size: 1}},
		GIDMappings: []rspec.LinuxIDMapping{{HostID: uint32(os.Getegid()), ContainerID: 0, Size: 1}},
	}
}

// recordTree lists the unpacked rootfs for the result.
func (x *extraction) recordTree(prefix string) error {
	top := path.Join(x.stage, prefix)
	return walkRoot(x.root, top, func(p string, info fs.FileInfo) error {
		if info.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(p, x.stage+"/")
		t := "file"
		if info.Mode()&fs.ModeSymlink != 0 {
			t = "symlink"
		}
		x.record(File{Path: rel, Size: info.Size(), Type: t})
		return nil
	})
}
