package sign

import (
	"bytes"
	"context"
	"crypto"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	signopts "github.com/sigstore/sigstore/pkg/signature/options"
)

// keypair presents a Signer as sigstore-go's sign.Keypair, so that
// sign.Bundle builds the DSSE envelope and the bundle around it.
type keypair struct{ s *Signer }

func (k keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.s.alg.GetProtoHashType() }
func (k keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.s.alg.GetSignatureAlgorithm()
}
func (k keypair) GetHint() []byte                { return []byte(k.s.hint) }
func (k keypair) GetPublicKey() crypto.PublicKey { return k.s.pub }

func (k keypair) GetKeyAlgorithm() string {
	switch k.s.alg.GetKeyType() {
	case signature.ECDSA:
		return "ECDSA"
	case signature.ED25519:
		return "ED25519"
	}
	return ""
}

func (k keypair) GetPublicKeyPem() (string, error) {
	b, err := k.s.PublicKeyPEM()
	return string(b), err
}

// SignData signs data (for DSSE, its pre-authentication encoding) and
// returns the signature and the digest signed, as sign.Keypair requires.
func (k keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	var digest []byte
	opts := []signature.SignOption{signopts.WithContext(ctx)}
	if h := k.s.alg.GetHashType(); h != 0 {
		hh := h.New()
		hh.Write(data)
		digest = hh.Sum(nil)
		opts = append(opts, signopts.WithDigest(digest))
	}
	sig, err := k.s.sv.SignMessage(bytes.NewReader(data), opts...)
	return sig, digest, err
}
