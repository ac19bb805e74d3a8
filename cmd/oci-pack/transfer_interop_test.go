package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTransferSkopeo: skopeo reads our exports as oci-archive, and we
// import its oci-archive output. Under CI a missing skopeo is a failure.
func TestTransferSkopeo(t *testing.T) {
	skopeo := txFindTool("skopeo")
	if skopeo == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("skopeo not found on PATH or in $HOME/.cache/oci-pack-tools/bin")
		}
		t.Skip("skopeo not installed")
	}
	bin := transferBinary(t)
	src := transferFixture(t, bin)
	dir := t.TempDir()
	want := txReceipt(t, bin, src).Tags["v1"]
	archive := filepath.Join(dir, "ours.tar")
	txOK(t, bin, nil, "export", src+":v1", "-o", archive)
	sk := exec.Command(skopeo, "copy", "--quiet", "oci-archive:"+archive+":v1", "oci:"+filepath.Join(dir, "viaskopeo")+":v1")
	if out, err := sk.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy oci-archive → oci: %v\n%s", err, out)
	}
	if got := txReceipt(t, bin, filepath.Join(dir, "viaskopeo")).Tags["v1"]; got != want {
		t.Errorf("skopeo copied %s, we exported %s", got, want)
	}
	theirs := filepath.Join(dir, "theirs.tar")
	sk = exec.Command(skopeo, "copy", "--quiet", "oci:"+src+":v1", "oci-archive:"+theirs+":v1")
	if out, err := sk.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy oci → oci-archive: %v\n%s", err, out)
	}
	dst := filepath.Join(dir, "dst")
	txOK(t, bin, nil, "import", theirs, dst)
	txOK(t, bin, nil, "verify", dst)
	if got := txReceipt(t, bin, dst).Tags["v1"]; got != want {
		t.Errorf("imported %s from skopeo's archive, source has %s", got, want)
	}
}

// TestTransferForeignTools: `tar -cf` of layouts that oras and regctl
// write (oras adds ingest/) import and verify; oras reads our export as a
// layout tarball. Each tool is skipped when it is not installed.
func TestTransferForeignTools(t *testing.T) {
	bin := transferBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	os.WriteFile(file, []byte("hello"), 0o644)
	writers := map[string][]string{
		"oras":   {"push", "--oci-layout", "LAYOUT:v1", "f.txt", "--artifact-type", "application/vnd.test"},
		"regctl": {"artifact", "put", "--artifact-type", "application/vnd.test", "-f", "f.txt", "ocidir://LAYOUT:v1"},
	}
	for tool, args := range writers {
		t.Run(tool, func(t *testing.T) {
			p := txFindTool(tool)
			if p == "" {
				t.Skipf("%s not installed", tool)
			}
			layoutDir := filepath.Join(dir, tool)
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "LAYOUT", layoutDir)
			}
			cmd := exec.Command(p, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", tool, err, out)
			}
			archive := filepath.Join(dir, tool+".tar")
			if out, err := exec.Command("tar", "-cf", archive, "-C", layoutDir, ".").CombinedOutput(); err != nil {
				t.Fatalf("tar: %v\n%s", err, out)
			}
			dst := filepath.Join(dir, tool+"-imported")
			txOK(t, bin, nil, "import", archive, dst)
			txOK(t, bin, nil, "verify", dst)
			var idx struct{ Manifests []struct{ Digest string } }
			json.Unmarshal(txRead(t, filepath.Join(layoutDir, "index.json")), &idx)
			if got := txReceipt(t, bin, dst).Tags["v1"]; len(idx.Manifests) != 1 || got != idx.Manifests[0].Digest {
				t.Errorf("imported v1 = %s, %s wrote %+v", got, tool, idx.Manifests)
			}
		})
	}
	t.Run("oras-reads-export", func(t *testing.T) {
		oras := txFindTool("oras")
		if oras == "" {
			t.Skip("oras not installed")
		}
		src := transferFixture(t, bin)
		archive := filepath.Join(dir, "ours.tar")
		txOK(t, bin, nil, "export", src+":v1", "-o", archive)
		out := filepath.Join(dir, "via-oras")
		if b, err := exec.Command(oras, "cp", "--from-oci-layout", archive+":v1", "--to-oci-layout", out+":v1").CombinedOutput(); err != nil {
			t.Fatalf("oras cp: %v\n%s", err, b)
		}
		if got, want := txReceipt(t, bin, out).Tags["v1"], txReceipt(t, bin, src).Tags["v1"]; got != want {
			t.Errorf("oras copied %s, we exported %s", got, want)
		}
	})
}
