// Command oci-pack packs files and directories as OCI artifacts into an
// on-disk OCI image layout and moves layouts across air gaps as tarballs.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	applyMemoryLimit()
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	// Some file systems report a failed write only when the file is
	// closed: output lost there is a failure too.
	if err := os.Stdout.Close(); err != nil && !errors.Is(err, os.ErrClosed) && code == exitOK {
		fmt.Fprintf(os.Stderr, "oci-pack: output lost: %v\n", err)
		code = exitFailure
	}
	os.Exit(code)
}
