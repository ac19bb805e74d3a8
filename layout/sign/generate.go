package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// GenerateKeyPair makes an ECDSA P-256 key pair in cosign's format: the
// private key PKCS#8, encrypted with the password pass returns (scrypt and
// NaCl secretbox, go-securesystemslib's encrypted package, as cosign
// generate-key-pair does) in an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM
// block; the public key PKIX PEM. An empty password is allowed, as cosign
// allows it; a nil one is an error.
func GenerateKeyPair(pass PassFunc) (privPEM, pubPEM []byte, err error) {
	if pass == nil {
		return nil, nil, fmt.Errorf("a password function is required: %w", layout.ErrInvalidArgument)
	}
	pw, err := pass(true)
	if err != nil {
		return nil, nil, err
	}
	if pw == nil {
		return nil, nil, fmt.Errorf("no password given: %w", layout.ErrInvalidArgument)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := cryptoutils.MarshalPrivateKeyToDER(priv)
	if err != nil {
		return nil, nil, err
	}
	enc, err := encrypted.Encrypt(der, pw)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt key: %w", err)
	}
	pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, nil, err
	}
	return cryptoutils.PEMEncode(pemEncryptedSigstore, enc), pubPEM, nil
}

// WriteKeyPair writes privPEM to PREFIX.key (mode 0600) and pubPEM to
// PREFIX.pub (0644), as cosign names them. Neither file may exist (a key
// is never replaced: ErrKeyExists); each is written to a temporary file in
// the same directory, fsynced and renamed, and the directory fsynced. The
// directory must not be inside an OCI layout: a private key never enters
// one.
func WriteKeyPair(prefix string, privPEM, pubPEM []byte) (privPath, pubPath string, err error) {
	if base := filepath.Base(prefix); prefix == "" || os.IsPathSeparator(prefix[len(prefix)-1]) || base == "." || base == ".." {
		// "keys/" would write the hidden files keys/.key and keys/.pub.
		return "", "", fmt.Errorf("key prefix %q: expected a file name prefix, like keys/release: %w", prefix, layout.ErrInvalidArgument)
	}
	privPath, pubPath = prefix+".key", prefix+".pub"
	dir := filepath.Dir(privPath)
	if inside, err := insideLayout(dir); err != nil {
		return "", "", err
	} else if inside != "" {
		return "", "", fmt.Errorf("%s is inside the OCI layout %s: a private key must never enter a layout or an archive: %w", privPath, inside, layout.ErrInvalidArgument)
	}
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s exists: %w", p, ErrKeyExists)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", "", err
		}
	}
	if err := writeNew(privPath, privPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		os.Remove(privPath)
		return "", "", err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", "", err
	}
	defer root.Close()
	if err := fsx.SyncDir(root, "."); err != nil {
		return "", "", fmt.Errorf("fsync %s: %w", dir, err)
	}
	return privPath, pubPath, nil
}

// ErrKeyExists: WriteKeyPair would replace a key file.
var ErrKeyExists = errors.New("key file exists")

// writeNew writes b to a temporary file beside path, fsyncs it and links
// it to path, failing if path exists (no rename over a file created
// meanwhile).
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: %w", path, ErrKeyExists)
		}
		return err
	}
	return nil
}

// insideLayout returns the OCI layout (a directory holding an oci-layout
// file) that dir is or is inside, or "". Both dir as named and the
// directory it really is (symlinks resolved: keys -> L/blobs/sha256) are
// looked at.
func insideLayout(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if l, err := layoutAbove(abs); l != "" || err != nil {
		return l, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", nil // a missing directory: the write fails, naming it
	}
	return layoutAbove(real)
}

// layoutAbove is insideLayout for an absolute path, taken as it is.
func layoutAbove(abs string) (string, error) {
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, "oci-layout")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", nil
		}
	}
}
