package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// Set by the Makefile with -ldflags "-X main.version=… -X main.commit=…".
// `go install …@vX` leaves them empty; the module build info fills in.
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
		name:    "version",
		args:    "",
		short:   "print the oci-pack version and commit, the Go version and the compression libraries' versions",
		long:    "oci-pack version\noci-pack version --format json",
		minArgs: 0, maxArgs: 0,
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
	info := buildInfo{Version: version, Commit: commit, Go: runtime.Version(), Modules: map[string]string{}}
	for _, m := range versionModules {
		info.Modules[m] = "unknown"
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return withDefaults(info)
	}
	if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && info.Commit == "" && len(s.Value) >= 12 {
			info.Commit = s.Value[:12]
		}
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
