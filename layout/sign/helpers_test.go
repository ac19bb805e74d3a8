package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// newLayout opens a fresh layout in t's temporary directory.
func newLayout(t *testing.T) *layout.Layout {
	t.Helper()
	l, err := layout.Open(filepath.Join(t.TempDir(), "L"), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// artifact stores a one-file artifact with content and tags it.
func artifact(t *testing.T, l *layout.Layout, tag, content string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	b := []byte(content)
	layer := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(len(b))}
	if _, err := l.Blobs().Put(ctx, bytes.NewReader(b), layer); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.v1",
		Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{layer}}
	m.SchemaVersion = 2
	desc, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	if tag != "" {
		if _, err := l.Tag(ctx, tag, desc, layout.ConflictOverwrite); err != nil {
			t.Fatal(err)
		}
	}
	return desc
}

// pw is a PassFunc with a fixed password.
func pw(p string) PassFunc { return func(bool) ([]byte, error) { return []byte(p), nil } }

// cosignKeys generates a cosign-format key pair in dir and loads both.
func cosignKeys(t *testing.T, dir, name string) (*Signer, *PublicKey, string) {
	t.Helper()
	priv, pub, err := GenerateKeyPair(pw("secret"))
	if err != nil {
		t.Fatal(err)
	}
	privPath, pubPath, err := WriteKeyPair(filepath.Join(dir, name), priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(privPath, pw("secret"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	return s, k, pubPath
}

// pkcs8Keys writes a plain PKCS#8 private key (ECDSA P-256, or Ed25519)
// and its public key into dir and loads both.
func pkcs8Keys(t *testing.T, dir string, ed bool) (*Signer, *PublicKey) {
	t.Helper()
	var priv any
	var pub any
	if ed {
		p, s, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = s, p
	} else {
		s, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = s, s.Public()
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pder, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	kp := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(kp, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}))
	if err != nil {
		t.Fatal(err)
	}
	k.Name = "pkcs8.pub"
	return s, k
}
