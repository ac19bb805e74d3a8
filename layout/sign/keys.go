package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// maxKeyFile bounds a key file: a PEM key is a few hundred bytes.
const maxKeyFile = 64 << 10

// PEM block types of the private keys Signer reads.
const (
	pemEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY" // cosign generate-key-pair (v2.2+)
	pemEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"   // older cosign
	pemPKCS8             = "PRIVATE KEY"
)

// ErrKeyPermissions: a private key file is readable by group or others.
var ErrKeyPermissions = errors.New("private key file readable by others")

// PassFunc returns the password of an encrypted private key; confirm asks
// for it twice (when a key is generated). It is called only for a key
// that is encrypted.
type PassFunc func(confirm bool) ([]byte, error)

// Signer is a private key loaded for signing.
type Signer struct {
	sv   signature.SignerVerifier
	alg  signature.AlgorithmDetails
	pub  crypto.PublicKey
	hint string
}

// PublicKey is a key signatures are checked against.
type PublicKey struct {
	// Name says where the key came from (its file, or its name in a
	// trust policy), for messages.
	Name string
	// Hint is the key's fingerprint as cosign writes it into a bundle:
	// base64(sha256(PKIX DER)).
	Hint string
	key  crypto.PublicKey
	v    signature.Verifier
}

// loadOpts are the options sigstore's loaders get: Ed25519 keys sign and
// verify with Ed25519ph, as cosign does by default.
var loadOpts = []signature.LoadOption{options.WithED25519ph()}

// LoadSigner reads a private key file: cosign's encrypted PEM (password
// from pass) or a plain PKCS#8 PEM key, ECDSA or Ed25519. The file must be
// a regular file that neither group nor others can read (ErrKeyPermissions
// otherwise; chmod 600 fixes it).
func LoadSigner(path string, pass PassFunc) (*Signer, error) {
	b, err := readKeyFile(path, true)
	if err != nil {
		return nil, err
	}
	s, err := ParseSigner(b, pass)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return s, nil
}

// ParseSigner parses a PEM private key as LoadSigner reads one.
func ParseSigner(b []byte, pass PassFunc) (*Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("not a PEM private key: %w", layout.ErrInvalidArgument)
	}
	var pf cryptoutils.PassFunc
	switch blk.Type {
	case pemEncryptedSigstore, pemEncryptedCosign:
		if pass == nil {
			return nil, fmt.Errorf("the key is encrypted and no password was given: %w", layout.ErrInvalidArgument)
		}
		pf = cryptoutils.PassFunc(pass)
	case pemPKCS8:
	default:
		return nil, fmt.Errorf("PEM block %q: expected %q (cosign generate-key-pair, oci-pack key generate) or %q (PKCS#8): %w", blk.Type, pemEncryptedSigstore, pemPKCS8, layout.ErrInvalidArgument)
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(b, pf)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt or parse it (wrong password?): %v: %w", err, layout.ErrInvalidArgument)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T: %w", priv, layout.ErrInvalidArgument)
	}
	if err := checkKeyType(signer.Public()); err != nil {
		return nil, err
	}
	sv, err := signature.LoadSignerVerifierWithOpts(signer, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load signer: %v: %w", err, layout.ErrInvalidArgument)
	}
	alg, err := signature.GetDefaultAlgorithmDetails(signer.Public(), loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("key algorithm: %v: %w", err, layout.ErrInvalidArgument)
	}
	hint, err := keyHint(signer.Public())
	if err != nil {
		return nil, err
	}
	return &Signer{sv: sv, alg: alg, pub: signer.Public(), hint: hint}, nil
}

// Hint is the fingerprint of the signer's public key (see PublicKey.Hint).
func (s *Signer) Hint() string { return s.hint }

// PublicKeyPEM returns the signer's public key as PKIX PEM.
func (s *Signer) PublicKeyPEM() ([]byte, error) { return cryptoutils.MarshalPublicKeyToPEM(s.pub) }

// LoadPublicKey reads a PEM public key (PKIX, as cosign writes cosign.pub).
func LoadPublicKey(path string) (*PublicKey, error) {
	b, err := readKeyFile(path, false)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	k.Name = path
	return k, nil
}

// ParsePublicKey parses a PEM public key. A private key given where a
// public key is expected is refused without being echoed.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil && blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block %q: expected \"PUBLIC KEY\" (give the .pub file): %w", blk.Type, layout.ErrInvalidArgument)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("not a PEM public key: %v: %w", err, layout.ErrInvalidArgument)
	}
	if err := checkKeyType(pub); err != nil {
		return nil, err
	}
	v, err := signature.LoadVerifierWithOpts(pub, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load verifier: %v: %w", err, layout.ErrInvalidArgument)
	}
	hint, err := keyHint(pub)
	if err != nil {
		return nil, err
	}
	return &PublicKey{Hint: hint, key: pub, v: v}, nil
}

// checkKeyType accepts ECDSA on P-256, P-384 or P-521, and Ed25519.
func checkKeyType(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("ECDSA key on curve %s: expected P-256, P-384 or P-521: %w", k.Curve.Params().Name, layout.ErrInvalidArgument)
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("unsupported key type %T: expected ECDSA or Ed25519: %w", pub, layout.ErrInvalidArgument)
}

// keyHint is cosign's key hint: base64(sha256(PKIX DER of the key)).
func keyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// readKeyFile reads a key file: a regular file (never a FIFO or device),
// at most maxKeyFile bytes; a private one must not be readable by group
// or others.
func readKeyFile(path string, private bool) ([]byte, error) {
	f, fi, err := openKeyFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if private && runtime.GOOS != "windows" {
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%s has mode %04o: %w: run chmod 600 %s: %w", path, fi.Mode().Perm(), ErrKeyPermissions, path, layout.ErrInvalidArgument)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("key file %s is over %d bytes: not a PEM key: %w", path, maxKeyFile, layout.ErrInvalidArgument)
	}
	return b, nil
}

// openKeyFile opens path, following links (a mounted secret is often one),
// and refuses what is not a regular file before opening it, so a FIFO
// cannot block.
func openKeyFile(path string) (*os.File, os.FileInfo, error) {
	before, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("key file %s: %w: %w", path, err, layout.ErrInvalidArgument)
		}
		return nil, nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if !before.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("key file %s is a %s, not a regular file: %w", path, fsx.FileKind(before.Mode()), layout.ErrInvalidArgument)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|fsx.ONonblock, 0) // a FIFO swapped in must not block
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: %w", path, err)
	}
	after, err := f.Stat()
	if err != nil || !os.SameFile(before, after) {
		f.Close()
		return nil, nil, fmt.Errorf("key file %s changed while it was opened: %w", path, layout.ErrInvalidArgument)
	}
	return f, after, nil
}
