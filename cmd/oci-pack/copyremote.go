package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/registry"
)

// runRemoteCopy is copy with a registry reference on either side (as
// remoteRef decided): a pull, a push, or a registry-to-registry copy
// (oras-go's, with referrers). policy applies to a pull's layout tag.
func runRemoteCopy(e *env, rf *registryFlags, from, to string, fromRemote, toRemote, referrers bool, policy layout.Conflict) error {
	switch {
	case !fromRemote:
		src, err := parseArtifact(from, readRef, false)
		if err != nil {
			return err
		}
		dst, err := rf.remote(to)
		if err != nil {
			return err
		}
		tag := dst.Ref.Reference
		if _, err := dst.Ref.Digest(); err == nil {
			return usagef("the destination takes a tag, not a digest: %q", to)
		}
		l, err := e.open(src.Layout, layout.ReadOnly, false)
		if err != nil {
			return err
		}
		defer l.Close()
		roots, err := pushRoots(e, l, src, tag, referrers)
		if err != nil {
			return err
		}
		o, wait := e.transferOptions(rf, referrers)
		res, err := registry.Push(e.ctx, l, roots[0].desc, dst, roots[0].tag, o)
		wait()
		if err != nil {
			return err
		}
		return e.reportTransfer("pushed", "to "+to, res)
	case !toRemote:
		src, err := rf.remote(from)
		if err != nil {
			return err
		}
		dst, err := parseRef(to, writeRef)
		if err != nil {
			return err
		}
		if dst.Digest != "" {
			return usagef("the destination takes a tag, not a digest: %q", to)
		}
		if dst.Tag == "" {
			dst.Tag = pullTag(src.Ref)
		}
		return runPull(e, rf, src, dst, referrers, policy)
	}
	src, err := rf.remote(from)
	if err != nil {
		return err
	}
	dst, err := rf.remote(to)
	if err != nil {
		return err
	}
	if _, err := dst.Ref.Digest(); err == nil {
		return usagef("the destination takes a tag, not a digest: %q", to)
	}
	tag := dst.Ref.Reference
	if tag == "" {
		tag = pullTag(src.Ref)
	}
	root, err := src.Resolve(e.ctx)
	if err != nil {
		return err
	}
	o, wait := e.transferOptions(rf, referrers)
	res, err := registry.Copy(e.ctx, src, root, dst, tag, o)
	wait()
	if err != nil {
		return err
	}
	return e.reportTransfer("copied", "to "+dst.Ref.Registry+"/"+dst.Ref.Repository+":"+tag, res)
}
