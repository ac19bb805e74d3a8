package main

import (
	"path/filepath"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "init",
		args:    "LAYOUT",
		short:   "create an empty OCI image layout (idempotent on an existing one)",
		long:    "oci-pack init models\noci-pack init models --format json",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				dir, err := parseLayout(args[0], writeRef)
				if err != nil {
					return err
				}
				existed := exists(filepath.Join(dir, layout.LayoutFile))
				if err := layout.Init(dir); err != nil {
					return err
				}
				if existed {
					e.infof("%s is already a layout", dir)
				} else {
					e.infof("initialised layout %s", dir)
				}
				if e.json() {
					return e.printJSON(map[string]any{"layout": dir, "created": !existed})
				}
				return nil
			}
		},
	})
}
