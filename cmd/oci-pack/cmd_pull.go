package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/registry"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "pull",
		args:  "REGISTRY/REPO[:TAG|@DIGEST] LAYOUT[:TAG]",
		short: "pull an artifact's graph (with its referrers) from a registry into a layout, resuming where an interrupted pull stopped",
		long: `oci-pack pull registry.local/models/llama:3-8b offline           # tag 3-8b in offline
oci-pack pull registry.local/models/llama@sha256:0123… offline:v1
oci-pack pull localhost:5000/llama:v1 offline --plain-http --no-referrers`,
		minArgs: 2, maxArgs: 2,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			noRef := fs.Bool("no-referrers", false, "do not pull artifacts that refer to it")
			var cf conflictFlags
			cf.apply(fs)
			var rf registryFlags
			rf.apply(fs)
			rf.applyResume(fs)
			return func(e *env, args []string) error {
				if !registry.IsReference(args[0]) {
					return usagef("pull needs a registry reference REGISTRY/REPO[:TAG|@DIGEST], got %q (to copy between layouts use copy)", args[0])
				}
				src, err := rf.remote(args[0])
				if err != nil {
					return err
				}
				if remote, _ := remoteRef(args[1]); remote {
					return usagef("the destination of pull is a layout directory, got the registry reference %q", args[1])
				}
				dst, err := parseRef(args[1], writeRef)
				if err != nil {
					return err
				}
				policy, err := cf.resolve(e)
				if err != nil {
					return err
				}
				if dst.Digest != "" {
					return usagef("the destination takes a tag, not a digest: %q", args[1])
				}
				if dst.Tag == "" {
					dst.Tag = pullTag(src.Ref)
				}
				if dst.Tag != "" {
					if err := layout.CheckUserTag(dst.Tag); err != nil {
						return err
					}
				}
				return runPull(e, &rf, src, dst, !*noRef, policy)
			}
		},
	})
}

// pullTag is the layout tag a pull gives by default: the registry tag
// ("latest" when none was given); a pull by digest is listed untagged.
func pullTag(r registry.Reference) string {
	if _, err := r.Digest(); err == nil {
		return ""
	}
	if r.Reference == "" {
		return "latest"
	}
	return r.Reference
}

// runPull resolves src before it opens (and perhaps creates) the layout:
// an unreachable registry or a missing tag leaves no trace.
func runPull(e *env, rf *registryFlags, src *registry.Remote, dst layout.Ref, referrers bool, policy layout.Conflict) (err error) {
	root, err := src.Resolve(e.ctx)
	if err != nil {
		return err
	}
	l, finish, err := e.openTarget(dst.Layout)
	if err != nil {
		return err
	}
	defer func() { finish(err) }()
	o, wait := e.transferOptions(rf, referrers)
	o.Tag = dst.Tag
	o.Conflict = policy
	res, err := registry.Pull(e.ctx, src, root, l, o)
	wait()
	if err != nil {
		return err
	}
	e.tellTagChange(dst.Tag, res.Tag)
	return e.reportTransfer("pulled", "into "+dst.String(), res)
}
