package archive

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// TestReceiptListsOnlyTrusted (RELIABILITY I6): a blob changed since it was
// verified is re-hashed; a corrupt one is left out of the receipt (so a
// delta never omits it) and reported through Omitted.
func TestReceiptListsOnlyTrusted(t *testing.T) {
	dir := goodLayout(t)
	l := openLayout(t, dir)
	before, err := MakeReceipt(ctx, l)
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := layout.ParseIndex(readFile(t, filepath.Join(dir, "index.json")))
	rotten := digest.Digest("")
	for _, d := range before.Blobs {
		if d != idx.Manifests[0].Digest && rotten == "" {
			p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
			b := readFile(t, p)
			b[0] ^= 1
			os.Chmod(p, 0o644)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			rotten = d
		}
	}
	l = openLayout(t, dir)
	defer l.Close()
	var omitted []digest.Digest
	after, err := MakeReceiptWith(ctx, l, ReceiptOptions{Jobs: 4, Omitted: func(d digest.Digest, why string) { omitted = append(omitted, d) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Blobs) != len(before.Blobs)-1 || after.Set()[rotten] {
		t.Errorf("receipt lists %d blobs (was %d), rotten %s listed: %v", len(after.Blobs), len(before.Blobs), rotten, after.Set()[rotten])
	}
	if len(omitted) != 1 || omitted[0] != rotten {
		t.Errorf("Omitted told %v, want [%s]", omitted, rotten)
	}
}
