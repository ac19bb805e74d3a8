//go:build !linux

package fsx

import (
	"errors"
	"os"
)

func clone(dst, src *os.File) error { return errors.ErrUnsupported }

func (c *RangeCopier) copyRange(off int64, n int) (int, error) { return 0, errors.ErrUnsupported }

func flushWait(f *os.File) error { return errors.ErrUnsupported }

func cloneFS(f *os.File) bool { return false }
