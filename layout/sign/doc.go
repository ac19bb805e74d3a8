// Package sign signs and verifies what a layout holds, offline, in the
// formats cosign writes and reads (DESIGN section 5b, RELIABILITY I17):
//
//   - keys: cosign's key files (an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM,
//     scrypt and secretbox as go-securesystemslib's encrypted package does
//     them; the public key as PKIX PEM), and plain PKCS#8 PEM keys (ECDSA
//     P-256, Ed25519). A private key file others can read is refused.
//   - Sign writes a Sigstore bundle v0.3 referrer, as cosign v3 does: a
//     manifest of artifactType application/vnd.dev.sigstore.bundle.v0.3+json
//     over the empty config, whose one layer is the bundle: a DSSE envelope
//     over an in-toto statement naming the signed manifest's digest,
//     predicate type https://sigstore.dev/cosign/sign/v1, with the key's
//     hint and no transparency-log entry. With Legacy it also writes
//     cosign's simple-signing manifest under the tag sha256-<hex>.sig.
//   - Verify checks, per tag, that a signature by a trusted key names the
//     tag's exact manifest digest; a Policy maps tag globs to keys.
//   - Gate checks an archive's signatures while it is imported, as soon as
//     its documents are in, and SignTransfer/VerifyTransfer sign an
//     export's sidecar and index as one bundle file.
//
// Private keys are read from files outside any layout and never written
// into one. Formats and cryptography come from sigstore-go, sigstore and
// go-securesystemslib; nothing here encodes DSSE or encrypts keys itself.
package sign
