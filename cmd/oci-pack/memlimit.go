package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the soft limit on the Go runtime's memory
// (runtime/debug.SetMemoryLimit) when GOMEMLIMIT does not set one.
//
// Every command streams, and its live heap stays well under this (the
// largest measured, a zstd pack, holds ~150 MiB of encoder windows; verify
// of a 10,000-tag layout ~70 MiB). Without a limit the collector lets the
// heap grow to twice the live data before it runs and returns freed pages
// lazily, so a command whose live heap is 70 MiB still peaked at 205 MiB
// of RSS. With the limit the collector runs and the scavenger returns
// pages as the runtime nears it: the same verify peaks at ~165 MiB, with
// no measurable change in time. It is soft: a command that needed more
// would get it (the collector's CPU is capped), never fail for it.
const defaultMemoryLimit = 160 << 20

// applyMemoryLimit sets defaultMemoryLimit unless the user set
// GOMEMLIMIT (which the runtime has applied already); it returns the
// limit in force.
func applyMemoryLimit() int64 {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return debug.SetMemoryLimit(-1) // -1: read, do not change
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultMemoryLimit
}
