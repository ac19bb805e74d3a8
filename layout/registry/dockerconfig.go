package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// maxDockerConfig bounds the Docker config read: docker's own files are a
// few KiB; the limit only stops a file (or a link to /dev/zero) that
// would be read forever.
const maxDockerConfig = 4 << 20

// dockerConfigPath is $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json (as docker, oras and helm look for it).
func dockerConfigPath() (string, error) {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("docker credential store: %w", err)
		}
		dir = filepath.Join(home, ".docker")
	}
	return filepath.Join(dir, "config.json"), nil
}

// openDockerConfig checks the Docker config at path before oras-go reads
// and rewrites it, and returns the path to give it: the file itself, a
// symlink's target (so a rewrite replaces the file the link leads to, as
// docker does, and the link — a dotfile manager's — stays a link), or
// path when there is none (it is created). The file must be a regular
// file (a FIFO would block the read forever, RELIABILITY I15) of at most
// 4 MiB, and strict JSON: a key given twice (two "auths") is ambiguous
// about which credentials count (I10). It also returns the file's mode
// (0 if absent), which a rewrite keeps (I16).
func openDockerConfig(path string) (string, fs.FileMode, error) {
	bad := func(format string, args ...any) (string, fs.FileMode, error) {
		return "", 0, fmt.Errorf("docker credential store %s: %s: %w", path, fmt.Sprintf(format, args...), layout.ErrInvalidArgument)
	}
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("docker credential store: %w", err)
	}
	real := path
	if li.Mode()&fs.ModeSymlink != 0 {
		dest, _ := os.Readlink(path)
		if real, err = filepath.EvalSymlinks(path); errors.Is(err, fs.ErrNotExist) {
			return bad("a symlink to %q, which does not exist: create the file it names, or remove the link", dest)
		} else if err != nil {
			return "", 0, fmt.Errorf("docker credential store %s: %w", path, err)
		}
	}
	f, fi, err := fsx.OpenUnnamed(real)
	if errors.Is(err, fsx.ErrNotRegular) {
		return "", 0, fmt.Errorf("docker credential store %s: %v: give DOCKER_CONFIG a directory holding a config.json file: %w", path, err, layout.ErrInvalidArgument)
	}
	if err != nil {
		return "", 0, fmt.Errorf("docker credential store: %w", err)
	}
	defer f.Close()
	if fi.Size() > maxDockerConfig {
		return bad("%d bytes, more than the %d a Docker config is read up to", fi.Size(), maxDockerConfig)
	}
	b, err := io.ReadAll(fsx.LimitReader(f, fi.Size(), real))
	if err != nil {
		return "", 0, fmt.Errorf("docker credential store: read %s: %w", real, err)
	}
	if len(b) > 0 {
		if err := strictjson.Check(b); err != nil {
			return bad("%v: fix the file (or remove it and log in again)", err)
		}
	}
	return real, fi.Mode().Perm(), nil
}

// durableStore rewrites the Docker config the way a user's file must be
// rewritten: after oras-go's rename of its new version (written 0600,
// not fsynced), the file is given back the permission bits it had, and
// the file and its directory are fsynced before Put or Delete returns.
type durableStore struct {
	credentials.Store
	path string
	mode fs.FileMode // 0: there was no file
}

func (s *durableStore) Put(ctx context.Context, host string, cred Credential) error {
	if err := s.Store.Put(ctx, host, cred); err != nil {
		return err
	}
	return s.settle()
}

func (s *durableStore) Delete(ctx context.Context, host string) error {
	if err := s.Store.Delete(ctx, host); err != nil {
		return err
	}
	return s.settle()
}

// settle restores the mode and fsyncs the config file and its directory
// (when a helper holds the credentials, the file may be unchanged or
// absent: nothing to do then).
func (s *durableStore) settle() error {
	f, fi, err := fsx.OpenUnnamed(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("docker credential store: %w", err)
	}
	defer f.Close()
	if s.mode != 0 && fi.Mode().Perm() != s.mode {
		if err := f.Chmod(s.mode); err != nil {
			return fmt.Errorf("docker credential store: keep the mode of %s: %w", s.path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("docker credential store: fsync %s: %w", s.path, err)
	}
	dir, err := os.OpenRoot(filepath.Dir(s.path))
	if err != nil {
		return fmt.Errorf("docker credential store: %w", err)
	}
	defer dir.Close()
	if err := fsx.SyncDir(dir, "."); err != nil {
		return fmt.Errorf("docker credential store: fsync %s: %w", filepath.Dir(s.path), err)
	}
	return nil
}
