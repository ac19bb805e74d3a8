package main

import (
	"fmt"
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "tag",
		args:  "LAYOUT:TAG|LAYOUT@DIGEST NEWTAG...",
		short: "add tags to an artifact (all or none)",
		long: `oci-pack tag models:llama-3-8b latest stable
oci-pack tag models:llama-3-8b models:latest          # the same, each new tag as LAYOUT:TAG
oci-pack tag models@sha256:0123… v1 --tag-conflict overwrite
oci-pack tag models:v2 latest --format json`,
		minArgs: 2, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			var cf conflictFlags
			cf.apply(fs)
			return func(e *env, args []string) error {
				ref, err := parseArtifact(args[0], writeRef, false)
				if err != nil {
					return err
				}
				names, err := newTagNames(ref.Layout, args[1:])
				if err != nil {
					return err
				}
				policy, err := cf.resolve(e)
				if err != nil {
					return err
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
				// One index update for all tags: all move or none.
				chs, err := l.TagAll(e.ctx, desc, policy, names...)
				if err != nil {
					return err
				}
				return reportTags(e, ref.Layout, chs)
			}
		},
	})
	register(&command{
		name:  "untag",
		args:  "LAYOUT:TAG [TAG|LAYOUT:TAG]...",
		short: "remove tags (blobs stay until gc)",
		long: `oci-pack untag models:old models:older
oci-pack untag models:old older                     # a bare TAG names one of the layout before it
oci-pack untag models:old --format json`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return runUntag
		},
	})
}

// newTagNames parses tag's NEWTAG arguments: a LAYOUT:TAG of the
// artifact's own layout, else a bare tag (which may hold a ":").
func newTagNames(dir string, args []string) ([]string, error) {
	names := make([]string, 0, len(args))
	for _, a := range args {
		name := a
		if r, err := layout.ParseRef(a); err == nil && r.Tag != "" && filepath.Clean(r.Layout) == filepath.Clean(dir) {
			name = r.Tag
		}
		if err := layout.CheckUserTag(name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// tagLine is one tag in tag's and untag's JSON output.
type tagLine struct {
	Reference string `json:"reference"`
	Tag       string `json:"tag"`
	Digest    string `json:"digest"`
	Previous  string `json:"previous,omitempty"`
	Skipped   bool   `json:"skipped,omitempty"`
}

func reportTags(e *env, dir string, chs []layout.TagChange) error {
	lines := make([]tagLine, 0, len(chs))
	for _, ch := range chs {
		tl := tagLine{Reference: dir + ":" + ch.Name, Tag: ch.Name, Digest: ch.New.String(), Previous: ch.Old.String(), Skipped: ch.Skipped}
		if ch.Skipped {
			tl.Digest = ch.Old.String()
		}
		e.tellTagChange(ch.Name, ch)
		lines = append(lines, tl)
	}
	if e.json() {
		return e.printJSON(lines)
	}
	for _, tl := range lines {
		fmt.Fprintf(e.stdout, "%s %s\n", tl.Reference, tl.Digest)
	}
	return nil
}

func runUntag(e *env, args []string) error {
	byLayout := map[string][]string{}
	var order []string
	var dir string
	for i, a := range args {
		if i > 0 && !exists(a) {
			if r, ok := shortRef(dir, a); ok && r.Tag != "" {
				byLayout[dir] = append(byLayout[dir], r.Tag)
				continue
			}
		}
		r, err := parseArtifact(a, writeRef, true)
		if err != nil {
			return err
		}
		dir = r.Layout
		if _, ok := byLayout[dir]; !ok {
			order = append(order, dir)
		}
		byLayout[dir] = append(byLayout[dir], r.Tag)
	}
	lines := []tagLine{}
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
			lines = append(lines, tagLine{Reference: dir + ":" + t.Name, Tag: t.Name, Digest: t.Descriptor.Digest.String()})
		}
	}
	if e.json() {
		return e.printJSON(lines)
	}
	for _, tl := range lines {
		fmt.Fprintf(e.stdout, "%s %s\n", tl.Reference, tl.Digest)
	}
	return nil
}
