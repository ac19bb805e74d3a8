//go:build !unix

package layout_test

import (
	"errors"
	"os"
)

func mkfifo(string) error { return errors.ErrUnsupported }

func lockExclusive(*os.File) error { return errors.ErrUnsupported }
