// Command oci-pack packs files and directories as OCI artifacts into an
// on-disk OCI image layout and moves layouts across air gaps as tarballs.
package main

import (
	"os"
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
