package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "init",
		args:    "LAYOUT",
		short:   "create an empty OCI image layout (idempotent on an existing one)",
		long:    "oci-pack init models",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				if err := layout.Init(args[0]); err != nil {
					return err
				}
				e.infof("initialised layout %s", args[0])
				return nil
			}
		},
	})
}
