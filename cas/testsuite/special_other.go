//go:build !unix

package testsuite

import "errors"

var errNoSpecial = errors.New("no FIFOs or device nodes on this platform")

func mkfifo(string) error { return errNoSpecial }

func mkdev(string) error { return errNoSpecial }
