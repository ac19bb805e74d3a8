package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// attachStatement signs, with kp, cosign's signature statement naming
// named, and attaches the bundle to subject as a Sigstore bundle referrer
// — the signer's own construction, with sigstore-go, not oci-pack's sign.
func attachStatement(t *testing.T, lo *layout.Layout, subject, named ocispec.Descriptor, kp sgsign.Keypair) {
	t.Helper()
	ctx := context.Background()
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		PredicateType: sign.PredicateCosignSign,
		Predicate:     &structpb.Struct{},
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{"sha256": named.Digest.Encoded()}}},
	}
	payload, err := protojson.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	bun, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: sign.PayloadTypeInToto}, kp, sgsign.BundleOptions{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(bun)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := lo.PutDocument(ctx, layout.MediaTypeSigstoreBundle, b)
	if err != nil {
		t.Fatal(err)
	}
	config, err := lo.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := lo.PutJSON(ctx, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: layout.MediaTypeSigstoreBundle, Config: config, Layers: []ocispec.Descriptor{layer},
		Subject:     &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{sign.AnnotationBundleContent: sign.BundleContentDSSE, sign.AnnotationBundlePredicateType: sign.PredicateCosignSign},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := lo.AddReferrers(ctx, m); err != nil {
		t.Fatal(err)
	}
}

// TestSignStatementOtherSubject: a signer with a trusted key signs a
// statement whose DSSE subject names another digest than the manifest the
// bundle is attached to: verify refuses it with exit 3. The same
// construction naming the right digest verifies, so the refusal is the
// subject's doing.
func TestSignStatementOtherSubject(t *testing.T) {
	w, l := signedFixture(t)
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.GetPublicKeyPem()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(w, "eph.pub"), []byte(pub), 0o644)
	lo := openLayout(t, l)
	idx, _ := lo.Index(context.Background())
	v1, _ := layout.FindTag(idx, "v1")
	v2, _ := layout.FindTag(idx, "v2")
	attachStatement(t, lo, v1, v1, kp)
	attachStatement(t, lo, v2, v1, kp) // on v2, naming v1
	lo.Close()
	before := txSHA256(txRead(t, filepath.Join(l, "index.json")))
	must(t, w, "verify", l, "v1", "--key", "eph.pub")
	r := ociPack(t, w, "verify", l, "v2", "--key", "eph.pub")
	if r.code != exitIntegrity || !strings.Contains(r.stdout, "NOT SIGNED: v2") || !strings.Contains(r.stderr, "bad signature") {
		t.Fatalf("verify of a bundle whose statement names another digest: %v", r)
	}
	unchanged(t, l, before)
}

// rewriteTarFile rewrites the entry name of the tar archive at path with
// edit applied to its content; every other entry is copied as it is.
func rewriteTarFile(t *testing.T, path, name string, edit func([]byte) []byte) {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tr, tw := tar.NewReader(in), tar.NewWriter(&out)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			b, found = edit(b), true
			h.Size = int64(len(b))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	in.Close()
	if err := tw.Close(); err != nil || !found {
		t.Fatalf("rewrite %s in %s: found %v, %v", name, path, found, err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSignTransferIndexAltered: the index.json of a signed transfer is
// rewritten to set another tag, and the sidecar's hash fixed to match the
// new archive, but not the bundle: import --require-signature refuses it
// with exit 3 and nothing changed — also into a directory that does not
// exist, which is not created. Imported without the gate, the altered
// archive is well formed (the refusal is the signature's doing).
func TestSignTransferIndexAltered(t *testing.T) {
	w, l := signedFixture(t)
	if r := ociPackEnv(t, w, signEnv, "export", l+":v1", "-o", "one.tar", "--sign", "k.key"); r.code != 0 {
		t.Fatal(r)
	}
	rewriteTarFile(t, filepath.Join(w, "one.tar"), "index.json", func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"org.opencontainers.image.ref.name":"v1"`), []byte(`"org.opencontainers.image.ref.name":"prod"`), 1)
	})
	side := filepath.Join(w, "one.tar.sha256")
	os.WriteFile(side, []byte(txSHA256(txRead(t, filepath.Join(w, "one.tar")))+"  one.tar\n"), 0o644)

	dst := transferTarget(t, bin(t))
	before := txSHA256(txRead(t, filepath.Join(dst, "index.json")))
	expect(t, w, exitIntegrity, []string{"one.tar.sigstore.json", "does not vouch"}, "import", "one.tar", dst, "--require-signature", "--key", "k.pub")
	unchanged(t, dst, before)
	txNoStaging(t, dst)
	missing := filepath.Join(w, "new")
	expect(t, w, exitIntegrity, []string{"does not vouch"}, "import", "one.tar", missing, "--require-signature", "--key", "k.pub")
	if _, err := os.Lstat(missing); err == nil {
		t.Fatal("import --require-signature created the layout it refused to import into")
	}
	must(t, w, "import", "one.tar", missing)
	if r := must(t, w, "ls", missing); !strings.Contains(r.stdout, "prod") {
		t.Fatalf("the altered archive does not set prod: %v", r)
	}
}

// TestSignStaleTransferSignature: an unsigned export to the path of an
// earlier signed one removes the earlier FILE.sigstore.json (it vouched
// for another sidecar), so import --require-signature checks each tag
// instead of refusing a transfer the bundle no longer vouches for; a
// signed export over it writes a fresh one.
func TestSignStaleTransferSignature(t *testing.T) {
	w, l := signedFixture(t)
	bundle := filepath.Join(w, "out.tar.sigstore.json")
	if r := ociPackEnv(t, w, signEnv, "export", l+":v1", "-o", "out.tar", "--sign", "k.key"); r.code != 0 {
		t.Fatal(r)
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Fatal(err)
	}
	must(t, w, "export", l+":v2", "-o", "out.tar")
	if _, err := os.Lstat(bundle); err == nil {
		t.Fatal("an unsigned export left the earlier export's signature beside it")
	}
	// Without the stale bundle, the gate checks each tag: v2 is unsigned.
	// The layout the refused import would have created is not left behind.
	expect(t, w, exitIntegrity, []string{"no signed transfer", "no trusted key signed"}, "import", "out.tar", filepath.Join(w, "D"), "--require-signature", "--key", "k.pub")
	if _, err := os.Lstat(filepath.Join(w, "D")); err == nil {
		t.Fatal("a refused import --require-signature left a new layout behind")
	}
	if r := ociPackEnv(t, w, signEnv, "export", l+":v1", "-o", "out.tar", "--sign", "k.key"); r.code != 0 {
		t.Fatal(r)
	}
	must(t, w, "import", "out.tar", filepath.Join(w, "E"), "--require-signature", "--key", "k.pub")
}
