package layouttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Tool finds an interop tool on PATH or where scripts/tools.sh installs
// them ($OCI_PACK_TOOLS/bin, default ~/.cache/oci-pack-tools/bin).
// Missing, it skips the test — or fails it under CI=true, where the tools
// are part of the contract.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	cache := os.Getenv("OCI_PACK_TOOLS")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "oci-pack-tools")
	}
	if p := filepath.Join(cache, "bin", name); isExecutable(p) {
		return p
	}
	msg := name + " not found on PATH or in " + filepath.Join(cache, "bin") + " (run scripts/tools.sh)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
