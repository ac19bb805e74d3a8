package main

import (
	"runtime/debug"
	"testing"
)

// The version comes from -ldflags, else from the build info: the module
// version of `go install …@vX.Y.Z`, the commit of a checkout build.
func TestVersionFrom(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/oci-pack/oci-pack", Version: "v1.2.3"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		bi                      *debug.BuildInfo
		ldVersion, ldCommit     string
		wantVersion, wantCommit string
	}{
		{installed, "", "", "v1.2.3", "unknown"},
		{checkout, "", "", "dev", "0123456789ab-dirty"},
		{checkout, "v9", "abc", "v9", "abc"},
		{nil, "", "", "dev", "unknown"},
	} {
		got := versionFrom(c.bi, c.ldVersion, c.ldCommit)
		if got.Version != c.wantVersion || got.Commit != c.wantCommit {
			t.Errorf("versionFrom(%+v, %q, %q) = %s %s; want %s %s", c.bi, c.ldVersion, c.ldCommit, got.Version, got.Commit, c.wantVersion, c.wantCommit)
		}
	}
}
