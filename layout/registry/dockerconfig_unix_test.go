//go:build unix

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
)

// TestDockerConfigRewrite: the Docker config is the user's file, holding
// credentials for other registries. A login or logout rewrites it
// atomically and durably, through a symlink (the target is the file
// rewritten, the link stays a link, as docker does), keeping its mode and
// every field oci-pack does not know (I13, I16).
func TestDockerConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "config.json")
	cfgDir := filepath.Join(dir, "docker")
	os.MkdirAll(filepath.Dir(real), 0o755)
	os.MkdirAll(cfgDir, 0o700)
	os.WriteFile(real, []byte(`{"auths":{"other.example":{"auth":"dTpw"}},"proxies":{"default":{"httpProxy":"http://p"}}}`), 0o600)
	os.Chmod(real, 0o640)
	link := filepath.Join(cfgDir, "config.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfgDir)

	s, err := DockerCredentials()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Put(ctx, "new.example", Credential{Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the config's symlink was replaced: %v %v", fi.Mode(), err)
	}
	fi, err := os.Stat(real)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the rewritten config did not keep its mode 0640: %v %v", fi.Mode(), err)
	}
	var got map[string]json.RawMessage
	b, _ := os.ReadFile(real)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["proxies"]; !ok {
		t.Errorf("an unknown field was lost: %s", b)
	}
	if !strings.Contains(string(got["auths"]), "other.example") || !strings.Contains(string(got["auths"]), "new.example") {
		t.Errorf("credentials lost or not saved: %s", got["auths"])
	}
	if err := s.Delete(ctx, "new.example"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(real)
	if !strings.Contains(string(b), "other.example") || strings.Contains(string(b), "new.example") {
		t.Errorf("logout: %s", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(real)); len(entries) != 1 {
		t.Errorf("temporary files left beside the config: %v", entries)
	}
}

// TestDockerConfigRefused: a Docker config that is not a regular file, is
// endless or huge, is a dangling link, or is ambiguous JSON is refused
// (exit 2, the file named) before anything reads or rewrites it, and a
// FIFO never blocks (I15). It is left as it was.
func TestDockerConfigRefused(t *testing.T) {
	cases := map[string]func(t *testing.T, p string){
		"FIFO": func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
		},
		"link to /dev/zero": func(t *testing.T, p string) { os.Symlink("/dev/zero", p) },
		"directory":         func(t *testing.T, p string) { os.Mkdir(p, 0o700) },
		"dangling link":     func(t *testing.T, p string) { os.Symlink(filepath.Join(filepath.Dir(p), "nowhere"), p) },
		"duplicate auths key": func(t *testing.T, p string) {
			os.WriteFile(p, []byte(`{"auths":{"a":{"auth":"dTpw"}},"auths":{}}`), 0o600)
		},
		"torn": func(t *testing.T, p string) { os.WriteFile(p, []byte(`{"auths":{"a":`), 0o600) },
		"huge": func(t *testing.T, p string) {
			f, _ := os.Create(p)
			f.Truncate(maxDockerConfig + 1)
			f.Close()
		},
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "config.json")
			plant(t, p)
			before, _ := os.Lstat(p)
			t.Setenv("DOCKER_CONFIG", dir)
			done := make(chan error, 1)
			go func() { _, err := DockerCredentials(); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("[I15] opening the Docker config hangs")
			}
			if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want a usage error naming %s", err, p)
			}
			after, _ := os.Lstat(p)
			if before.Mode() != after.Mode() || !os.SameFile(before, after) {
				t.Errorf("the config was replaced: %v, was %v", after.Mode(), before.Mode())
			}
		})
	}
}
