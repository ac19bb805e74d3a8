package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "receipt",
		args:  "LAYOUT",
		short: `print what the layout holds, {"blobs":[…],"tags":{…}}, for export --exclude-from`,
		long: `oci-pack receipt offline > site.json
oci-pack receipt offline -o /media/usb/site.json      # replaced atomically: the old receipt or the whole new one
oci-pack export models:v2 --exclude-from site.json -o delta.tar   # back at the connected site`,
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "-", "file to write (replaced only if a regular file; a symlink is followed to one), a FIFO or character device, or - for stdout")
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
				r, err := archive.MakeReceiptWith(e.ctx, l, archive.ReceiptOptions{Jobs: e.g.jobs, Omitted: func(d digest.Digest, why string) {
					e.warnf("receipt leaves out blob %s: %s (oci-pack verify %s lists what is wrong)", d, why, args[0])
				}})
				if err != nil {
					return err
				}
				if *out == "-" {
					return r.Encode(e.stdout)
				}
				final, err := r.WriteFile(*out)
				if err != nil {
					return err
				}
				layout.NotifyCommitted(e.ctx)
				e.infof("receipt of %d blob(s) and %d tag(s) written to %s", len(r.Blobs), len(r.Tags), final)
				return nil
			}
		},
	})
}
