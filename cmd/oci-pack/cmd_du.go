package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:     "du",
		readOnly: true,
		args:     "LAYOUT",
		short:    "bytes stored against bytes referenced per tag: what dedupe saved",
		long:     "oci-pack du models",
		minArgs:  1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			all := fs.Bool("all", false, "also list referrers-tag indexes (sha256-<hex> tags, as ls --all); the totals count them either way")
			return func(e *env, args []string) error {
				dir, err := parseLayout(args[0], readRef)
				if err != nil {
					return err
				}
				l, err := e.open(dir, layout.ReadOnly, false)
				if err != nil {
					return err
				}
				defer l.Close()
				u, err := l.DiskUsage(e.ctx)
				if err != nil {
					return err
				}
				saved := u.SumReferenced - u.Reachable
				var rows []layout.TagUsage
				hidden := 0
				for _, t := range u.Tags {
					if *all || !layout.IsReferrersTag(t.Tag) {
						rows = append(rows, t)
					} else {
						hidden++
					}
				}
				twins, err := l.TwinUsage(e.ctx)
				if err != nil {
					return err
				}
				if e.json() {
					return e.printJSON(map[string]any{"tags": nonNil(rows), "stored": u.Stored, "reachable": u.Reachable, "sumReferenced": u.SumReferenced, "savedByDedupe": saved, "unreachable": u.Stored - u.Reachable, "imageVolumeTwins": twins})
				}
				tw := e.table()
				fmt.Fprintln(tw, "TAG\tREFERENCED\tUNIQUE\tDIGEST")
				for _, t := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Tag, humanBytes(t.Referenced), humanBytes(t.Unique), t.Digest)
				}
				tw.Flush()
				if hidden > 0 {
					fmt.Fprintf(e.stdout, "(%d referrers-tag index row(s) not shown: --all lists them)\n", hidden)
				}
				fmt.Fprintf(e.stdout, "stored %s (%s unreachable, reclaimable by gc); tags reference %s in all; dedupe saved %s\n",
					humanBytes(u.Stored), humanBytes(u.Stored-u.Reachable), humanBytes(u.SumReferenced), humanBytes(saved))
				if twins.Layers > 0 {
					fmt.Fprintf(e.stdout, "image-volume form: %d tar layer(s), %s, hold the same bytes as raw layers stored beside them (the layout keeps both forms; export carries them once)\n", twins.Layers, humanBytes(twins.Bytes))
				}
				return nil
			}
		},
	})
}
