//go:build unix

package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// A killed extraction's staging directory (unlocked) is removed by the
// next one; a live one's (locked) is left alone, and so is anything not
// named exactly like staging.
func TestMakeStageReclaimsDeadStaging(t *testing.T) {
	dir := t.TempDir()
	const dead, live = stagePrefix + "0123456789ab", stagePrefix + "ba9876543210"
	for _, p := range []string{dead + "/sub/part.bin", live + "/a.bin", "keep/" + stagePrefix + "0123456789ab/x", stagePrefix + "user-dir/x", stagePrefix + "0123456789AB/x"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, dead, "sub"), 0o500) // read-only dirs come from tar entries
	held, err := os.Open(filepath.Join(dir, live))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if ok, err := lockDir(held); !ok || err != nil {
		t.Fatalf("lock the live staging: %v %v", ok, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	name, lock, err := makeStage(root, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := os.Lstat(filepath.Join(dir, dead)); !os.IsNotExist(err) {
		t.Errorf("dead staging not removed: %v", err)
	}
	// Not removed: a live run's staging, a nested or differently named
	// directory that only looks alike, and the new staging directory.
	for _, p := range []string{live + "/a.bin", "keep/" + stagePrefix + "0123456789ab/x", stagePrefix + "user-dir/x", stagePrefix + "0123456789AB/x", name} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// The new staging directory is locked: a second run leaves it.
	other, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if ok, _ := lockDir(other); ok {
		t.Errorf("the new staging directory %s is not locked", name)
	}
}
