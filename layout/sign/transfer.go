package sign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// PredicateTransfer is the predicate type of a signed transfer: an
// in-toto statement whose subjects are an export's sidecar (every volume
// and its sha256) and its index.json.
const PredicateTransfer = "https://github.com/oci-pack/oci-pack/transfer/v1"

// TransferSuffix names a transfer's bundle: FILE.sigstore.json beside
// FILE.sha256.
const TransferSuffix = archive.SignatureSuffix

// transferIndexName is the subject name of the archive's index.json.
const transferIndexName = "index.json"

// TransferBundlePath is the bundle file of the archive whose sidecar is
// sidecar (FILE.sha256 → FILE.sigstore.json).
func TransferBundlePath(sidecar string) string {
	return strings.TrimSuffix(sidecar, ".sha256") + TransferSuffix
}

// SignTransfer signs an export: a Sigstore bundle (DSSE, in-toto
// statement of type PredicateTransfer) whose subjects are the sidecar —
// named by its base name, with the digest of its bytes — and the
// archive's index.json. One offline check of it vouches for every volume
// (through the sidecar's hashes) and for every tag (through index.json).
func SignTransfer(ctx context.Context, s *Signer, sidecarName string, sidecar, index digest.Digest) ([]byte, error) {
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		PredicateType: PredicateTransfer,
		Predicate:     &structpb.Struct{},
		Subject: []*intoto.ResourceDescriptor{
			{Name: sidecarName, Digest: map[string]string{sidecar.Algorithm().String(): sidecar.Encoded()}},
			{Name: transferIndexName, Digest: map[string]string{index.Algorithm().String(): index.Encoded()}},
		},
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	payload, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	return signDSSE(ctx, s, payload)
}

// VerifyTransfer checks the bundle beside sidecar (TransferBundlePath):
// signed by one of keys, over a PredicateTransfer statement naming
// sidecarDigest (the digest of the sidecar bytes import reads). It returns
// the index.json digest the statement names, which the archive's must
// match. A missing bundle is ErrUnsigned.
func VerifyTransfer(sidecar string, sidecarDigest digest.Digest, keys []*PublicKey) (digest.Digest, *PublicKey, error) {
	path := TransferBundlePath(sidecar)
	f, _, err := openKeyFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("%s: no signed transfer beside %s: %w", path, sidecar, ErrUnsigned)
		}
		return "", nil, err
	}
	defer f.Close()
	b, err := strictjson.ReadAll(f, maxBundle)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %v: %w", path, err, ErrBadSignature)
	}
	bun, err := parseBundle(b)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	k, st, err := verifyStatement(bun, PredicateTransfer, []digest.Digest{sidecarDigest}, keys)
	if err != nil {
		return "", nil, fmt.Errorf("%s does not vouch for %s (%s): %w", path, sidecar, sidecarDigest, err)
	}
	for _, sub := range st.GetSubject() {
		if sub.GetName() == transferIndexName {
			d := digest.NewDigestFromEncoded(digest.SHA256, sub.GetDigest()["sha256"])
			if d.Validate() != nil {
				break
			}
			return d, k, nil
		}
	}
	return "", nil, fmt.Errorf("%s names no valid %s digest: %w", path, transferIndexName, ErrBadSignature)
}

// WriteTransfer writes a transfer bundle to path by the output rule of
// fsx.CreateOutput (RELIABILITY I13): a regular file or nothing there is
// replaced atomically (path.partial, fsync, rename, fsync of the
// directory); a FIFO with a reader or a character device is streamed to;
// a symlink is followed to a regular file; anything else is refused.
func WriteTransfer(path string, b []byte) error {
	_, err := fsx.WriteOutput(path, fsx.OutputOptions{Unnamed: true}, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	return err
}
