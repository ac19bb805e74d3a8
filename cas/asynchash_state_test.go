package cas_test

import (
	"bytes"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
)

// TestAsyncHashState saves the state mid-stream and restores it in
// another AsyncHash: both end at the digest of the whole stream.
func TestAsyncHashState(t *testing.T) {
	data := bytes.Repeat([]byte("xyz"), 2_000_001)
	cut := 3_500_017
	a := cas.NewAsyncHash(digest.SHA256)
	a.Write(data[:cut])
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	a.Write(data[cut:])
	if got := a.Sum(); got != digest.FromBytes(data) {
		t.Fatalf("original after State: %s", got)
	}
	b, err := cas.RestoreAsyncHash(digest.SHA256, st)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(data[cut:])
	if got := b.Sum(); got != digest.FromBytes(data) {
		t.Fatalf("restored: %s", got)
	}
	if _, err := cas.RestoreAsyncHash(digest.SHA256, []byte("junk")); err == nil {
		t.Error("junk state restored")
	}
}
