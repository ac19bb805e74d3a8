package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var signEnv = []string{"OCI_PACK_PASSWORD=pw"}

// signedFixture packs v1 and v2 into w/L, makes keys k and other, and
// signs v1 with k (bundle and legacy forms).
func signedFixture(t *testing.T) (w, l string) {
	t.Helper()
	w = t.TempDir()
	os.WriteFile(filepath.Join(w, "a.txt"), []byte("weights one\n"), 0o644)
	os.WriteFile(filepath.Join(w, "b.bin"), bytes.Repeat([]byte("layer two "), 20000), 0o644)
	l = filepath.Join(w, "L")
	must(t, w, "pack", l+":v1", "a.txt", "--artifact-type", "application/vnd.test")
	must(t, w, "pack", l+":v2", "b.bin", "--artifact-type", "application/vnd.test")
	for _, k := range []string{"k", "other"} {
		if r := ociPackEnv(t, w, signEnv, "key", "generate", "--output-key-prefix", k); r.code != 0 {
			t.Fatal(r)
		}
	}
	if r := ociPackEnv(t, w, signEnv, "sign", l+":v1", "--key", "k.key", "--legacy-tag"); r.code != 0 {
		t.Fatal(r)
	}
	return w, l
}

// unchanged fails unless dir's index.json still has sha256 want.
func unchanged(t *testing.T, dir, want string) {
	t.Helper()
	if got := txSHA256(txRead(t, filepath.Join(dir, "index.json"))); got != want {
		t.Fatalf("%s/index.json changed", dir)
	}
}

// open opens a layout for the test to tamper with through the library.
func openLayout(t *testing.T, dir string) *layout.Layout {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestSignVerifyCLI(t *testing.T) {
	w, l := signedFixture(t)
	r := must(t, w, "verify", l, "v1", "--key", "k.pub")
	if !strings.Contains(r.stdout, "signed: v1") || !strings.Contains(r.stdout, "k.pub") {
		t.Fatalf("verify names the key: %v", r)
	}
	before := txSHA256(txRead(t, filepath.Join(l, "index.json")))
	// Another key, and an unsigned tag: exit 3, nothing changed.
	expect(t, w, exitIntegrity, []string{"v1", "bad signature"}, "verify", l, "v1", "--key", "other.pub")
	expect(t, w, exitIntegrity, []string{"v2", "not signed"}, "verify", l, "--key", "k.pub")
	// A trust policy: v* trusted to k only.
	os.WriteFile(filepath.Join(w, "trust.json"), []byte(`{"version":1,"keys":{"rel":"k.pub"},"rules":[{"tags":["v1"],"keys":["rel"]}]}`), 0o644)
	must(t, w, "verify", l, "v1", "--trust", "trust.json")
	if r := ociPack(t, w, "verify", l, "v2", "--trust", "trust.json"); r.code != exitIntegrity || !strings.Contains(r.stdout, "no trust rule") {
		t.Fatalf("verify v2 under a policy with no rule for it: %v", r)
	}
	os.WriteFile(filepath.Join(w, "bad.json"), []byte(`{"version":1,"keys":{"rel":"k.pub"},"rules":[{"tags":["v1"],"keys":["typo"]}]}`), 0o644)
	expect(t, w, exitUsage, []string{"typo"}, "verify", l, "--trust", "bad.json")
	unchanged(t, l, before)
}

func TestSignKeyFileChecks(t *testing.T) {
	w, l := signedFixture(t)
	os.Chmod(filepath.Join(w, "k.key"), 0o644)
	expect(t, w, exitUsage, []string{"chmod 600"}, "sign", l+":v2", "--key", "k.key")
	os.Chmod(filepath.Join(w, "k.key"), 0o600)
	// A key never enters a layout.
	r := ociPackEnv(t, w, signEnv, "key", "generate", "--output-key-prefix", filepath.Join(l, "blobs", "k"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "never enter a layout") {
		t.Fatalf("key generate into a layout: %v", r)
	}
	// An existing key is never replaced.
	r = ociPackEnv(t, w, signEnv, "key", "generate", "--output-key-prefix", "k")
	if r.code != exitConflict {
		t.Fatalf("key generate over k.key: %v", r)
	}
	// No private key bytes in the layout or an export of it.
	must(t, w, "export", l, "-o", "all.tar")
	key := txRead(t, filepath.Join(w, "k.key"))
	body := key[bytes.IndexByte(key, '\n')+1 : bytes.IndexByte(key, '\n')+41]
	if bytes.Contains(txRead(t, filepath.Join(w, "all.tar")), body) {
		t.Fatal("the private key is in the archive")
	}
}

// TestSignTamper: each tampering is refused by verify with exit 3, and
// nothing changes. Each case returns the tag to verify.
func TestSignTamper(t *testing.T) {
	ctx := context.Background()
	cases := map[string]func(t *testing.T, l *layout.Layout, v1, v2 ocispec.Descriptor) string{
		"manifest byte changed after signing": func(t *testing.T, lo *layout.Layout, v1, _ ocispec.Descriptor) string {
			p := filepath.Join(lo.Dir(), "blobs", "sha256", v1.Digest.Encoded())
			b := txRead(t, p)
			b[len(b)-2] ^= 1
			os.Chmod(p, 0o644)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return "v1"
		},
		"signature for another digest": func(t *testing.T, lo *layout.Layout, v1, v2 ocispec.Descriptor) string {
			// v1's legacy signature put under v2's .sig tag.
			idx, _ := lo.Index(ctx)
			m, _ := layout.FindTag(idx, layout.ReferrersTag(v1.Digest)+".sig")
			if _, err := lo.Tag(ctx, layout.ReferrersTag(v2.Digest)+".sig", m, layout.ConflictOverwrite); err != nil {
				t.Fatal(err)
			}
			return "v2"
		},
		"referrer moved to another subject": func(t *testing.T, lo *layout.Layout, v1, v2 ocispec.Descriptor) string {
			refs, _ := lo.Referrers(ctx, v1.Digest, layout.MediaTypeSigstoreBundle)
			doc, err := lo.ReadDocument(ctx, refs[0])
			if err != nil {
				t.Fatal(err)
			}
			m := ocispec.Manifest{MediaType: doc.MediaType, ArtifactType: doc.ArtifactType, Config: *doc.Config, Layers: doc.Layers, Annotations: doc.Annotations,
				Subject: &ocispec.Descriptor{MediaType: v2.MediaType, Digest: v2.Digest, Size: v2.Size}}
			m.SchemaVersion = 2
			d, err := lo.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := lo.AddReferrers(ctx, d); err != nil {
				t.Fatal(err)
			}
			return "v2"
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			w, l := signedFixture(t)
			lo := openLayout(t, l)
			idx, _ := lo.Index(ctx)
			v1, _ := layout.FindTag(idx, "v1")
			v2, _ := layout.FindTag(idx, "v2")
			tag := tamper(t, lo, v1, v2)
			lo.Close()
			before := txSHA256(txRead(t, filepath.Join(l, "index.json")))
			r := ociPack(t, w, "verify", l, tag, "--key", "k.pub")
			if r.code != exitIntegrity {
				t.Fatalf("verify after %s: %v", name, r)
			}
			unchanged(t, l, before)
		})
	}
}

// TestSignImportGate: import --require-signature refuses, with exit 3 and
// the target's index.json unchanged, an archive with an unsigned tag
// (before its layers are staged) and a signed transfer whose sidecar was
// changed; it accepts the signed archive.
func TestSignImportGate(t *testing.T) {
	w, l := signedFixture(t)
	lo := openLayout(t, l)
	idx, _ := lo.Index(context.Background())
	v2, _ := layout.FindTag(idx, "v2")
	doc, err := lo.ReadDocument(context.Background(), v2)
	if err != nil {
		t.Fatal(err)
	}
	bigLayer := doc.Layers[0].Digest.Encoded()
	lo.Close()
	dst := transferTarget(t, bin(t))
	before := txSHA256(txRead(t, filepath.Join(dst, "index.json")))

	// An unsigned tag slipped into an archive of a signed one.
	must(t, w, "export", l+":v1", l+":v2", "-o", "two.tar")
	r := ociPack(t, w, "import", "two.tar", dst, "--require-signature", "--key", "k.pub")
	if r.code != exitIntegrity || !strings.Contains(r.stderr, "before its layers were read") {
		t.Fatalf("import of an archive with an unsigned tag: %v", r)
	}
	if _, err := os.Stat(filepath.Join(dst, "blobs", "sha256", bigLayer)); err == nil {
		t.Fatal("v2's layer was staged before the refusal")
	}
	unchanged(t, dst, before)

	// A signed transfer: a volume hash changed in the sidecar.
	if r := ociPackEnv(t, w, signEnv, "export", l+":v1", "-o", "one.tar", "--sign", "k.key"); r.code != 0 {
		t.Fatal(r)
	}
	side := filepath.Join(w, "one.tar.sha256")
	good := txRead(t, side)
	bad := append([]byte{}, good...)
	bad[0] = map[bool]byte{true: '1', false: '0'}[bad[0] == '0'] // still hex: only the hash differs
	os.WriteFile(side, bad, 0o644)
	expect(t, w, exitIntegrity, []string{"does not vouch"}, "import", "one.tar", dst, "--require-signature", "--key", "k.pub")
	unchanged(t, dst, before)
	os.WriteFile(side, good, 0o644)
	// Another key.
	expect(t, w, exitIntegrity, nil, "import", "one.tar", dst, "--require-signature", "--key", "other.pub")
	unchanged(t, dst, before)
	// The signed archive passes.
	must(t, w, "import", "one.tar", dst, "--require-signature", "--key", "k.pub")
	must(t, w, "verify", dst, "v1", "--key", "k.pub")
}
