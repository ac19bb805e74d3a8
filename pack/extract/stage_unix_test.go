//go:build unix

package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// A killed extraction's staging directory (unlocked) is removed by the
// next one; a live one's (locked) is left alone, and so is anything not
// named like staging.
func TestMakeStageReclaimsDeadStaging(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{stagePrefix + "dead/sub/part.bin", stagePrefix + "live/a.bin", "keep/" + stagePrefix + "nested/x"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, stagePrefix+"dead", "sub"), 0o500) // read-only dirs come from tar entries
	live, err := os.Open(filepath.Join(dir, stagePrefix+"live"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if ok, err := lockDir(live); !ok || err != nil {
		t.Fatalf("lock the live staging: %v %v", ok, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	name, lock, err := makeStage(root)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := os.Lstat(filepath.Join(dir, stagePrefix+"dead")); !os.IsNotExist(err) {
		t.Errorf("dead staging not removed: %v", err)
	}
	for _, p := range []string{stagePrefix + "live/a.bin", "keep/" + stagePrefix + "nested/x", name} {
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
