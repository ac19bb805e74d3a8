//go:build windows

package cas

// Windows has no FIFOs reachable by path and no O_NONBLOCK.
const oNonblock = 0
