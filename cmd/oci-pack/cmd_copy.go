package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "copy",
		args:  "SRC:REF DST[:TAG]",
		short: "copy an artifact's graph (with its referrers) between layouts and registries, skipping blobs DST already has",
		long: `oci-pack copy models:llama-3-8b offline            # tag llama-3-8b in offline
oci-pack copy models@sha256:0123… offline:v1
oci-pack copy models:v1 offline:v1 --no-referrers
oci-pack copy offline:v1 registry.local/models/llama:v1     # push
oci-pack copy registry.local/models/llama:v1 offline        # pull
oci-pack copy registry.local/a/llama:v1 registry.local/b/llama:v1`,
		minArgs: 2, maxArgs: 2,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			noRef := fs.Bool("no-referrers", false, "do not copy artifacts that refer to it")
			var cf conflictFlags
			cf.apply(fs)
			var rf registryFlags
			rf.apply(fs)
			return func(e *env, args []string) error {
				fromRemote, note0 := remoteRef(args[0])
				toRemote, note1 := remoteRef(args[1])
				for _, n := range []string{note0, note1} {
					if n != "" {
						e.infof("oci-pack copy: %s", n)
					}
				}
				if fromRemote || toRemote {
					policy, err := cf.resolve(e)
					if err != nil {
						return err
					}
					return runRemoteCopy(e, &rf, args[0], args[1], fromRemote, toRemote, !*noRef, policy)
				}
				src, err := parseArtifact(args[0], readRef, false)
				if err != nil {
					return err
				}
				dst, err := parseRef(args[1], writeRef)
				if err != nil {
					return err
				}
				if dst.Digest != "" {
					return usagef("the destination takes a tag, not a digest: %q", args[1])
				}
				if dst.Tag == "" {
					dst.Tag = src.Tag
				}
				if err := layout.CheckUserTag(dst.Tag); err != nil && dst.Tag != src.Tag {
					return err
				}
				policy, err := cf.resolve(e)
				if err != nil {
					return err
				}
				return runCopy(e, src, dst, !*noRef, policy)
			}
		},
	})
}

func runCopy(e *env, src, dst layout.Ref, referrers bool, policy layout.Conflict) (err error) {
	sl, err := e.open(src.Layout, layout.ReadOnly, false)
	if err != nil {
		return err
	}
	defer sl.Close()
	dl, finish, err := e.openTarget(dst.Layout)
	if err != nil {
		return err
	}
	defer func() { finish(err) }()
	root, err := sl.Resolve(e.ctx, src)
	if err != nil {
		return err
	}
	prog, wait := e.progress()
	res, err := layout.Copy(e.ctx, sl, dl, root, layout.CopyOptions{Referrers: referrers, Jobs: e.g.jobs, Tag: dst.Tag, Conflict: policy, Progress: prog})
	wait()
	if err != nil {
		return err
	}
	e.tellTagChange(dst.Tag, res.Tag)
	e.infof("copied %s: %d blob(s) (%s) copied, %d (%s) already present, %d referrer(s)",
		root.Digest, res.Copied, humanBytes(res.CopiedBytes), res.Reused, humanBytes(res.ReusedBytes), len(res.Referrers))
	if e.json() {
		return e.printJSON(map[string]any{"digest": root.Digest, "copied": res.Copied, "copiedBytes": res.CopiedBytes, "reused": res.Reused, "reusedBytes": res.ReusedBytes, "referrers": nonNil(res.Referrers),
			"tag": dst.Tag, "skipped": res.Tag.Skipped, "previous": res.Tag.Old})
	}
	_, err = fmt.Fprintln(e.stdout, root.Digest)
	return err
}
