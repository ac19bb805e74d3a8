package fsx

import (
	"errors"
	"fmt"
	"os"
)

// ErrNotAdopted: AdoptOutput cannot take over a kept PATH.partial; the
// caller writes that output again (through CreateOutput).
var ErrNotAdopted = errors.New("kept partial file not adopted")

// AdoptOutput is CreateOutput for a file an earlier, interrupted run
// already wrote and kept as PATH.partial (a resumed export's finished
// volumes): the Output's bytes are that file's, and Commit makes them
// final by the same rule and with the same checks as a new output's
// (RELIABILITY I13) — a regular file at PATH is replaced keeping its
// mode, a name free now is never replaced if taken by commit time.
//
// Only what the rule would write beside PATH is adopted: a refusal of the
// path itself (a directory, a stream where files only will do) wraps
// ErrBadOutput as CreateOutput's would; a symlink at PATH (its target is
// where the bytes belong, not beside the link) or a PATH.partial that is
// not a regular file with one link wraps ErrNotAdopted. o.FilesOnly is
// implied.
func AdoptOutput(path string, o OutputOptions) (*Output, error) {
	o.FilesOnly = true
	if o.FilesOnlyWhy == "" {
		o.FilesOnlyWhy = "a kept file is renamed into place"
	}
	out, err := planOutput(path, o)
	if err != nil {
		return nil, err
	}
	if out.final != path {
		return nil, fmt.Errorf("%w: %s is now a symlink (to %s)", ErrNotAdopted, path, out.final)
	}
	if o.Check != nil {
		if err := o.Check(out.final); err != nil {
			return nil, err
		}
	}
	out.tmp = path + PartialSuffix
	f, err := os.OpenFile(out.tmp, os.O_RDWR|oNofollow|ONonblock|oNoctty, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAdopted, err)
	}
	fi, err := f.Stat()
	if err == nil && (!fi.Mode().IsRegular() || LinkCount(fi) != 1) {
		err = fmt.Errorf("%w: %s is a %s with %d link(s), expected a regular file of its own", ErrNotAdopted, out.tmp, FileKind(fi.Mode()), LinkCount(fi))
	}
	if err == nil && out.replace {
		if ffi, serr := os.Stat(out.final); serr == nil {
			err = f.Chmod(ffi.Mode().Perm())
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	out.f = f
	return out, nil
}
