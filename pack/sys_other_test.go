//go:build !unix

package pack_test

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
