package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "gc",
		args:    "LAYOUT",
		short:   "delete blobs unreachable from index.json, referrers whose subject is gone, and stale staging files; prints what it freed",
		long:    "oci-pack gc models --dry-run\noci-pack gc models",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			dry := fs.Bool("dry-run", false, "only print what would be deleted")
			return func(e *env, args []string) error {
				dir, err := parseLayout(args[0], readRef)
				if err != nil {
					return err
				}
				l, err := e.openRepair(dir, layout.Exclusive)
				if err != nil {
					return err
				}
				defer l.Close()
				res, err := l.GC(e.ctx, *dry)
				if err != nil {
					return err
				}
				if e.json() {
					return e.printJSON(map[string]any{"dryRun": *dry, "entries": nonNil(res.Entries), "blobs": nonNil(res.Blobs), "bytes": res.Bytes, "staging": nonNil(res.Staging)})
				}
				verb, drop := "freed", "dropped"
				if *dry {
					verb, drop = "would free", "would drop"
				}
				for _, en := range res.Entries {
					name := "untagged referrer " + en.Descriptor.Digest.String()
					if en.Tag != "" {
						name = fmt.Sprintf("tag %s (%s)", safe(en.Tag), en.Descriptor.Digest)
					}
					e.infof("%s %s: its subject %s is gone", drop, name, en.Subject)
				}
				for _, b := range res.Blobs {
					fmt.Fprintf(e.stdout, "%s\t%d\n", b.Digest, b.Size)
				}
				e.infof("%s %s in %d blob(s); %d stale staging item(s)", verb, humanBytes(res.Bytes), len(res.Blobs), len(res.Staging))
				return nil
			}
		},
	})
}
