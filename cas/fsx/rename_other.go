//go:build !linux && !darwin

package fsx

import "os"

// renameNoReplace: no native no-replace rename is used here.
func renameNoReplace(*os.Root, string, string) error { return errNoNative }
