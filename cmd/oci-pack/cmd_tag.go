package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "tag",
		args:    "LAYOUT:REF TAG...",
		short:   "add tags to an artifact",
		long:    "oci-pack tag models:llama-3-8b latest stable\noci-pack tag models@sha256:0123… v1 --force",
		minArgs: 2, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			force := fs.Bool("force", false, "move tags that already name another artifact")
			return func(e *env, args []string) error {
				ref, err := layout.ParseRef(args[0])
				if err != nil {
					return usagef("%v", err)
				}
				for _, t := range args[1:] {
					if err := layout.CheckUserTag(t); err != nil {
						return err
					}
				}
				l, err := e.open(ref.Layout, layout.ReadWrite, false)
				if err != nil {
					return err
				}
				defer l.Close()
				desc, err := l.Resolve(e.ctx, ref)
				if err != nil {
					return err
				}
				policy := layout.ConflictFail
				if *force {
					policy = layout.ConflictOverwrite
				}
				// One index update for all tags: all move or none.
				chs, err := l.TagAll(e.ctx, desc, policy, args[1:]...)
				if err != nil {
					return err
				}
				for _, ch := range chs {
					if ch.Old != "" && ch.Old != ch.New {
						e.infof("moved tag %s from %s", ch.Name, ch.Old)
					}
					fmt.Fprintf(e.stdout, "%s:%s %s\n", ref.Layout, ch.Name, desc.Digest)
				}
				return nil
			}
		},
	})
	register(&command{
		name:    "untag",
		args:    "LAYOUT:TAG...",
		short:   "remove tags (blobs stay until gc)",
		long:    "oci-pack untag models:old models:older",
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return runUntag
		},
	})
}

func runUntag(e *env, args []string) error {
	byLayout := map[string][]string{}
	var order []string
	for _, a := range args {
		ref, err := layout.ParseRef(a)
		if err != nil {
			return usagef("%v", err)
		}
		if ref.Tag == "" {
			return usagef("untag needs LAYOUT:TAG, got %q", a)
		}
		if _, ok := byLayout[ref.Layout]; !ok {
			order = append(order, ref.Layout)
		}
		byLayout[ref.Layout] = append(byLayout[ref.Layout], ref.Tag)
	}
	for _, dir := range order {
		l, err := e.openRepair(dir, layout.ReadWrite)
		if err != nil {
			return err
		}
		removed, err := l.Untag(e.ctx, byLayout[dir]...)
		l.Close()
		if err != nil {
			return err
		}
		for _, t := range removed {
			fmt.Fprintf(e.stdout, "%s:%s %s\n", dir, t.Name, t.Descriptor.Digest)
		}
	}
	return nil
}
