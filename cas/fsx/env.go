package fsx

import (
	"errors"
	"io/fs"
)

// IsEnvironment reports whether err is a failure of the environment the
// command ran in — permission denied, too many open files, an I/O error,
// a full, read-only or over-quota file system, no memory — rather than a
// verdict on the data (RELIABILITY I16). Such an error says nothing about
// whether a layout or an archive is corrupt: it is never reported as
// "corrupt", and its exit class is 1 (failure), whatever else it wraps.
// This is the one classifier: layout asks it before calling an error
// corrupt, and the CLI before choosing an exit code.
func IsEnvironment(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, fs.ErrPermission) {
		return true
	}
	for _, e := range environmentErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
