package main

import (
	"errors"
	"fmt"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// Exit codes (DESIGN section 2, RELIABILITY I11).
const (
	exitOK        = 0
	exitFailure   = 1 // environment, I/O
	exitUsage     = 2
	exitIntegrity = 3 // corrupt, truncated, hostile input
	exitConflict  = 4 // tag exists, lock busy
)

// errUsage marks a usage error found by the CLI itself.
var errUsage = errors.New("usage error")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// integrityErrors are the sentinels of the integrity class.
var integrityErrors = []error{
	cas.ErrDigestMismatch, cas.ErrSizeMismatch, cas.ErrInvalidDigest, cas.ErrNotRegular,
	layout.ErrCorrupt, layout.ErrMissingBlob, strictjson.ErrInvalid, strictjson.ErrTooLarge,
	compress.ErrTooLarge, errIntegrity,
	archive.ErrInvalid, archive.ErrTruncated, archive.ErrChecksum, archive.ErrTooLarge,
	sign.ErrUnsigned, sign.ErrBadSignature,
}

// errIntegrity lets commands mark other integrity failures.
var errIntegrity = errors.New("integrity failure")

// errConflict lets commands mark other conflicts (an existing file).
var errConflict = errors.New("conflict")

// exitCode classifies err: the one place an error becomes an exit class
// (RELIABILITY I11, I16).
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case gotSignal.Load() != 0 && !committed.Load():
		// Interrupted before the commit: whatever error the unwinding
		// produced (a read cut short, a cancelled lock wait) is the
		// signal's doing. After the commit the change stands, and the
		// error (a report that could not be written) is classed as such.
		return int(gotSignal.Load())
	case errors.Is(err, errUsage), errors.Is(err, layout.ErrInvalidArgument), errors.Is(err, layout.ErrInvalidTag),
		errors.Is(err, layout.ErrNotManifest), errors.Is(err, fsx.ErrBadOutput):
		return exitUsage
	case errors.Is(err, layout.ErrTagExists), errors.Is(err, layout.ErrLocked), errors.Is(err, errConflict), errors.Is(err, sign.ErrKeyExists):
		return exitConflict
	case fsx.IsEnvironment(err):
		// Permission denied, too many open files, an I/O error, a full
		// disk: the environment failed, whatever the error was found
		// reading — never "corrupt" (exit 3).
		return exitFailure
	}
	for _, e := range integrityErrors {
		if errors.Is(err, e) {
			return exitIntegrity
		}
	}
	return exitFailure
}

// signalName names the signal behind an exit code of 129, 130 or 143.
func signalName(code int32) string {
	switch code {
	case exitSIGHUP:
		return "SIGHUP"
	case exitSIGINT:
		return "SIGINT"
	}
	return "SIGTERM"
}
