package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	"github.com/spf13/pflag"
)

// imageFlags ask pack for the image-volume form (pack.ImageVolume).
type imageFlags struct {
	on        bool
	mountDir  string
	platforms []string
	base      string
	tag       string
}

func (f *imageFlags) apply(fs *pflag.FlagSet) {
	fs.BoolVar(&f.on, "image-volume", false, "also write the image-volume form (an image containerd mounts as a Kubernetes volume), tagged TAG"+pack.ImageTagSuffix+", as a referrer of the artifact")
	fs.StringVar(&f.mountDir, "mount-dir", modelcar.DefaultMountDir, "image-volume form: the image directory that holds the files")
	fs.StringArrayVar(&f.platforms, "platform", nil, "image-volume form: a platform os/arch[/variant] of the index (repeatable or comma-separated; default linux/amd64,linux/arm64)")
	fs.StringVar(&f.base, "base", "", "image-volume form: stack the files on this image, LAYOUT:REF (each platform takes the base's image for it)")
	fs.StringVar(&f.tag, "image-tag", "", "image-volume form beside an artifact: its tag (default TAG"+pack.ImageTagSuffix+")")
}

// volume returns the image form asked for (nil for none) and a func that
// closes the base layout, if one was opened.
func (f *imageFlags) volume(e *env, fs *pflag.FlagSet, preset *pack.Preset) (*pack.ImageVolume, func(), error) {
	noop := func() {}
	imageOnly := preset != nil && preset.Name == "modelcar"
	if !f.on && !imageOnly {
		for _, name := range []string{"mount-dir", "platform", "base", "image-tag"} {
			if fs.Changed(name) {
				return nil, noop, usagef("--%s needs --image-volume or --preset modelcar", name)
			}
		}
		return nil, noop, nil
	}
	if imageOnly && fs.Changed("image-tag") {
		return nil, noop, usagef("--image-tag is for --image-volume; with --preset modelcar the image is tagged TAG")
	}
	plats, err := modelcar.ParsePlatforms(f.platforms)
	if err != nil {
		return nil, noop, err
	}
	iv := &pack.ImageVolume{MountDir: f.mountDir, Platforms: plats, Tag: f.tag}
	if f.base == "" {
		return iv, noop, nil
	}
	ref, err := layout.ParseRef(f.base)
	if err != nil {
		return nil, noop, usagef("--base: %v", err)
	}
	if ref.Tag == "" && ref.Digest == "" {
		return nil, noop, usagef("--base needs LAYOUT:TAG or LAYOUT@DIGEST, got %q", f.base)
	}
	bl, err := e.open(ref.Layout, layout.ReadOnly, false)
	if err != nil {
		return nil, noop, err
	}
	desc, err := bl.Resolve(e.ctx, ref)
	if err != nil {
		bl.Close()
		return nil, noop, err
	}
	iv.Base = &modelcar.Base{Layout: bl, Desc: desc, Name: f.base}
	return iv, func() { bl.Close() }, nil
}
