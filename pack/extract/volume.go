package extract

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// planVolume plans the image-volume form (pack/modelcar): its files, not
// a root filesystem — each file layer's one file is written under its
// title, as the raw layers of the ModelPack form beside it are, so
// extracting either form gives the same files. Every platform's manifest
// holds the same layers; they are written once. The layers of a base
// image below the files are skipped.
func (x *extraction) planVolume(desc ocispec.Descriptor, prefix string, v *modelcar.View) error {
	mp := &manifestPlan{prefix: prefix, desc: desc}
	x.manifests = append(x.manifests, mp)
	var plats []string
	for _, p := range v.Platforms {
		if p.OS != "" {
			plats = append(plats, modelcar.PlatformString(p))
		}
	}
	x.o.Info(fmt.Sprintf("%s: image-volume form (%s): writing its %d file(s), not a root filesystem", desc.Digest, strings.Join(plats, ", "), len(v.Files)))
	if len(v.Base) > 0 {
		x.o.Info(fmt.Sprintf("%s: %d layer(s) of the base image skipped (extract the base image by itself for them)", desc.Digest, len(v.Base)))
	}
	for i, f := range v.Files {
		lp := &layerPlan{m: mp, who: fmt.Sprintf("file layer %d", i), desc: f.Layer, kind: layerFileTar, alg: compress.None, fileDigest: f.Digest}
		if prefix != "" {
			lp.who = fmt.Sprintf("member %q file layer %d", prefix, i)
		}
		title, err := cleanName(f.Title)
		if err != nil {
			return fmt.Errorf("%s title %q %v: %w", lp.who, f.Title, err, ErrUnsafe)
		}
		lp.title = title
		if !x.match.match(title) {
			lp.kind = layerSkip
		}
		mp.layers = append(mp.layers, lp)
	}
	return nil
}

// writeFileTar stages the one file of an image-volume layer under the
// layer's title. The layer may hold directories and exactly one regular
// file, whose path must end in the title; its bytes must have the digest
// the layer's tar-of annotation gives, and the blob its own digest. The
// file keeps its executable bit (0755 or 0644).
func (x *extraction) writeFileTar(ctx context.Context, lp *layerPlan, tr layout.ProgressItem) error {
	s, err := x.openStream(ctx, lp, tr)
	if err != nil {
		return err
	}
	defer s.close()
	r := tar.NewReader(s.r)
	full := join(lp.m.prefix, lp.title)
	var n int64
	var got digest.Digest
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s.fail(err)
		}
		name := path.Clean(hdr.Name)
		switch {
		case hdr.Typeflag == tar.TypeDir:
			continue
		case hdr.Typeflag != tar.TypeReg || got != "" || (name != lp.title && !strings.HasSuffix(name, "/"+lp.title)):
			return s.fail(fmt.Errorf("%s (%s): entry %q: an image-volume layer holds one file, %q under its mount directory, and that file's directories: %w", lp.who, lp.desc.Digest, hdr.Name, lp.title, ErrUnsafe))
		}
		if err := x.mkdirParent(full); err != nil {
			return err
		}
		h := lp.fileDigest.Algorithm().Hash()
		mode := fs.FileMode(0o644)
		if hdr.Mode&0o111 != 0 {
			mode = 0o755
		}
		if n, err = x.createFile(full, io.TeeReader(r, h), mode, true, make([]byte, copyBufferSize)); err != nil {
			return s.fail(err)
		}
		got = digest.NewDigest(lp.fileDigest.Algorithm(), h)
	}
	if err := s.finish(); err != nil {
		return err
	}
	switch {
	case got == "":
		return fmt.Errorf("%s (%s): no file in the layer: %w", lp.who, lp.desc.Digest, ErrUnsafe)
	case got != lp.fileDigest:
		return fmt.Errorf("%s (%s): its file %s is %s, the layer's %s annotation says %s: %w", lp.who, lp.desc.Digest, lp.title, got, layout.AnnotationTarOf, lp.fileDigest, cas.ErrDigestMismatch)
	}
	x.record(File{Path: full, Size: n, Type: "file"})
	return nil
}
