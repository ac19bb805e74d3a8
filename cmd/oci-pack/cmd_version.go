package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// Set by the Makefile with -ldflags "-X main.version=… -X main.commit=…".
// Otherwise the build info fills in: `go install …@vX.Y.Z` records the
// module version; `go build` in a checkout records a pseudo-version
// (Go ≥ 1.24) and the commit (vcs.revision, vcs.modified).
var (
	version = ""
	commit  = ""
)

// versionModules are the dependencies whose version changes the bytes
// oci-pack writes (compressed layers, and so digests).
var versionModules = []string{
	"github.com/klauspost/compress",
	"github.com/klauspost/pgzip",
	"github.com/opencontainers/image-spec",
}

func init() {
	register(&command{
		name:     "version",
		readOnly: true,
		args:     "",
		short:    "print the oci-pack version and commit, the Go version and the compression libraries' versions",
		long:     "oci-pack version\noci-pack version --format json",
		minArgs:  0, maxArgs: 0,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				info := versionInfo()
				if e.json() {
					return e.printJSON(info)
				}
				fmt.Fprintf(e.stdout, "oci-pack %s (commit %s)\n%s %s/%s\n", info.Version, info.Commit, info.Go, runtime.GOOS, runtime.GOARCH)
				for _, m := range versionModules {
					fmt.Fprintf(e.stdout, "%s %s\n", m, info.Modules[m])
				}
				return nil
			}
		},
	})
}

type buildInfo struct {
	Version string            `json:"version"`
	Commit  string            `json:"commit"`
	Go      string            `json:"go"`
	Modules map[string]string `json:"modules"`
}

func versionInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(bi, version, commit)
}

// versionFrom is the version report from the build info bi (nil: none)
// and the -ldflags values.
func versionFrom(bi *debug.BuildInfo, version, commit string) buildInfo {
	info := buildInfo{Version: version, Commit: commit, Go: runtime.Version(), Modules: map[string]string{}}
	for _, m := range versionModules {
		info.Modules[m] = "unknown"
	}
	if bi == nil {
		return withDefaults(info)
	}
	if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && info.Commit == "" && len(s.Value) >= 12:
			info.Commit = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			modified = true
		}
	}
	if modified && commit == "" && info.Commit != "" {
		info.Commit += "-dirty"
	}
	for _, d := range bi.Deps {
		if _, ok := info.Modules[d.Path]; ok {
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			info.Modules[d.Path] = v
		}
	}
	return withDefaults(info)
}

func withDefaults(i buildInfo) buildInfo {
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}
