//go:build linux && !amd64

package crash

import "errors"

// tracerSupported says whether runTraced works here: the tracer reads
// and writes amd64 registers.
const tracerSupported = false

var sysWrite, sysFsync, sysRename, sysUnlink, sysOtherFile, sysOpen, sysRead []uintptr

const sysCopyFileRange = 285 // arm64; unused: no tracer here

func trace(bin, dir string, env []string, f fault, args []string) (traced, error) {
	return traced{}, errors.New("the ptrace tracer supports linux/amd64 only")
}
