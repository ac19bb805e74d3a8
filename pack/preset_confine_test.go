package pack_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
)

// Issue 12 class 6: presets read only regular files inside their input.
// Each case builds a tree around a host secret and packs it with a
// preset; a case either packs (and the layout then holds no byte of the
// secret) or is refused as a usage error — never reads outside, never
// hangs. New ways for a preset to reach outside belong in these tables.

// secret is what no artifact may carry unless the user asks.
var secret = []byte("-----BEGIN PRIVATE KEY----- host secret")

// rev is a snapshot's 40-hex revision.
const rev = "0123456789abcdef0123456789abcdef01234567"

// hfTree builds a Hugging Face cache in a new directory: hub/<repo>/
// {blobs/w, refs/main, snapshots/<rev>/model.safetensors → ../../blobs/w},
// and a secret beside hub. It returns the hub directory.
func hfTree(t *testing.T, repo string) string {
	t.Helper()
	top := t.TempDir()
	mkfile(t, top, "secret", secret, 0o600)
	hub := filepath.Join(top, "hub")
	mkfile(t, hub, repo+"/blobs/w", []byte("bf16 weights, pretend"), 0o644)
	mkfile(t, hub, repo+"/refs/main", []byte(rev), 0o644)
	link(t, "../../blobs/w", filepath.Join(hub, repo, "snapshots", rev, "model.safetensors"))
	return hub
}

func link(t *testing.T, target, at string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, at); err != nil {
		t.Fatal(err)
	}
}

func TestModelPackHuggingFaceShape(t *testing.T) {
	const repo = "models--org--name"
	snap := func(hub, repo, r string) string { return filepath.Join(hub, repo, "snapshots", r) }
	cases := []struct {
		name string
		// build returns the directory to pack.
		build func(t *testing.T) string
		ok    bool
	}{
		{"the real shape", func(t *testing.T) string { return snap(hfTree(t, repo), repo, rev) }, true},
		{"a repository without an org", func(t *testing.T) string {
			return snap(hfTree(t, "models--gpt2"), "models--gpt2", rev)
		}, true},
		{"a link out of the snapshot to a secret", func(t *testing.T) string {
			hub := hfTree(t, repo)
			link(t, "../../../../secret", filepath.Join(snap(hub, repo, rev), "tokenizer.json"))
			return snap(hub, repo, rev)
		}, false},
		{"a link into the repository outside blobs/", func(t *testing.T) string {
			hub := hfTree(t, repo)
			link(t, "../../refs/main", filepath.Join(snap(hub, repo, rev), "README.md"))
			return snap(hub, repo, rev)
		}, false},
		{"a link into another repository's blobs/", func(t *testing.T) string {
			hub := hfTree(t, repo)
			mkfile(t, hub, "models--other--x/blobs/k", secret, 0o600)
			link(t, "../../../models--other--x/blobs/k", filepath.Join(snap(hub, repo, rev), "extra.bin"))
			return snap(hub, repo, rev)
		}, false},
		{"a blob that links out", func(t *testing.T) string {
			hub := hfTree(t, repo)
			link(t, "../../../secret", filepath.Join(hub, repo, "blobs", "k"))
			link(t, "../../blobs/k", filepath.Join(snap(hub, repo, rev), "extra.bin"))
			return snap(hub, repo, rev)
		}, false},
		{"snapshots/ beside blobs/ in any directory", func(t *testing.T) string {
			hub := hfTree(t, "cache")
			return snap(hub, "cache", rev)
		}, false},
		{"a repository without refs/", func(t *testing.T) string {
			hub := hfTree(t, repo)
			os.RemoveAll(filepath.Join(hub, repo, "refs"))
			return snap(hub, repo, rev)
		}, false},
		{"a revision that is not 40 hex", func(t *testing.T) string {
			hub := hfTree(t, repo)
			os.Rename(snap(hub, repo, rev), snap(hub, repo, "main"))
			return snap(hub, repo, "main")
		}, false},
		{"blobs/ that is a link elsewhere", func(t *testing.T) string {
			hub := hfTree(t, repo)
			elsewhere := filepath.Join(filepath.Dir(hub), "elsewhere")
			os.Rename(filepath.Join(hub, repo, "blobs"), elsewhere)
			link(t, elsewhere, filepath.Join(hub, repo, "blobs"))
			return snap(hub, repo, rev)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.build(t)
			out := t.TempDir()
			res, err := tryPack(out, []pack.Input{{Path: dir}}, pack.Options{Preset: mustPreset(t, "modelpack")})
			switch {
			case c.ok && err != nil:
				t.Fatalf("pack: %v", err)
			case c.ok && len(res.Layers) != 1:
				t.Fatalf("%d layers, want 1", len(res.Layers))
			case !c.ok && !errors.Is(err, layout.ErrInvalidArgument):
				t.Fatalf("pack = %v, want a usage error (a link leaves the snapshot and its repository's blobs/)", err)
			case !c.ok && !errors.Is(err, pack.ErrLinkOutside):
				// The CLI's hint for ErrLinkOutside names --allow-outside.
				t.Errorf("the refusal is not ErrLinkOutside (the CLI could not say how to pack it anyway): %v", err)
			}
			assertNoSecret(t, out)
		})
	}
}

// TestHelmChartYAMLInsideChart: Chart.yaml is read through an os.Root on
// the chart directory: a link to a Chart.yaml elsewhere (even a valid
// chart's) is refused and never read; a link that stays inside is
// followed; a FIFO or a device there is refused without a hang.
func TestHelmChartYAMLInsideChart(t *testing.T) {
	chartYAML := []byte("apiVersion: v2\nname: mychart\nversion: 1.0.0\ndescription: \"" + string(secret) + "\"\n")
	cases := []struct {
		name  string
		plant func(t *testing.T, chart, outside string) error
		ok    bool
	}{
		{"regular file", func(t *testing.T, chart, _ string) error {
			return os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte("apiVersion: v2\nname: mychart\nversion: 1.0.0\n"), 0o644)
		}, true},
		{"link inside the chart", func(t *testing.T, chart, _ string) error {
			mkfile(t, chart, "meta/Chart.yaml", []byte("apiVersion: v2\nname: mychart\nversion: 1.0.0\n"), 0o644)
			return os.Symlink("meta/Chart.yaml", filepath.Join(chart, "Chart.yaml"))
		}, true},
		{"absolute link outside", func(t *testing.T, chart, outside string) error {
			return os.Symlink(filepath.Join(outside, "Chart.yaml"), filepath.Join(chart, "Chart.yaml"))
		}, false},
		{"relative link outside", func(t *testing.T, chart, outside string) error {
			return os.Symlink("../outside/Chart.yaml", filepath.Join(chart, "Chart.yaml"))
		}, false},
		{"link inside to a link outside", func(t *testing.T, chart, outside string) error {
			if err := os.Symlink("../outside/Chart.yaml", filepath.Join(chart, "real.yaml")); err != nil {
				return err
			}
			return os.Symlink("real.yaml", filepath.Join(chart, "Chart.yaml"))
		}, false},
		{"link to /dev/zero", func(t *testing.T, chart, _ string) error {
			return os.Symlink("/dev/zero", filepath.Join(chart, "Chart.yaml"))
		}, false},
		{"FIFO", func(t *testing.T, chart, _ string) error {
			return mkfifo(filepath.Join(chart, "Chart.yaml"))
		}, false},
		{"directory", func(t *testing.T, chart, _ string) error {
			return os.Mkdir(filepath.Join(chart, "Chart.yaml"), 0o755)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := t.TempDir()
			outside := filepath.Join(top, "outside")
			mkfile(t, outside, "Chart.yaml", chartYAML, 0o600)
			chart := filepath.Join(top, "mychart")
			mkfile(t, chart, "templates/cm.yaml", []byte("kind: ConfigMap\n"), 0o644)
			if err := c.plant(t, chart, outside); err != nil {
				t.Skipf("cannot plant: %v", err)
			}
			out := t.TempDir()
			done := make(chan error, 1)
			go func() {
				_, err := tryPack(out, []pack.Input{{Path: chart}}, pack.Options{Preset: mustPreset(t, "helm")})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("pack hangs on the planted Chart.yaml")
			}
			if c.ok && err != nil {
				t.Fatalf("pack: %v", err)
			}
			if !c.ok && !errors.Is(err, layout.ErrInvalidArgument) {
				t.Fatalf("pack = %v, want a usage error", err)
			}
			if err != nil && strings.Contains(err.Error(), string(secret)) {
				t.Errorf("the error quotes the file outside: %v", err)
			}
			assertNoSecret(t, out)
		})
	}
}

// assertNoSecret fails if any file in the layout at dir holds secret.
func assertNoSecret(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, secret) {
			t.Errorf("the secret from outside the input is in %s", p)
		}
		return nil
	})
}
