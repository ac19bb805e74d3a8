package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "repair",
		args:  "FILE.000",
		short: "check a volume set written with export --parity against its sidecar and parity, and rebuild lost or damaged volumes on disk",
		long: `oci-pack repair /media/usb/llama.tar.000     # checks every volume; rebuilds up to N missing or corrupt ones
oci-pack repair llama.tar.par1 --format json`,
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				res, err := archive.Repair(e.ctx, args[0])
				if res != nil {
					for _, n := range res.Notes {
						e.warnf("%s", n)
					}
				}
				if err != nil {
					return err
				}
				for _, r := range res.Rebuilt {
					if !e.json() {
						fmt.Fprintf(e.stdout, "rebuilt %s\n", r)
					}
				}
				if res.Sidecar != "" {
					e.infof("wrote %s from the parity volumes' lists", res.Sidecar)
				}
				e.infof("%s: %d volumes checked, %d rebuilt; all match their digests", res.Base, res.Volumes, len(res.Rebuilt))
				if e.json() {
					return e.printJSON(map[string]any{"base": res.Base, "volumes": res.Volumes, "rebuilt": nonNil(res.Rebuilt), "sidecar": res.Sidecar, "notes": nonNil(res.Notes)})
				}
				return nil
			}
		},
	})
}
