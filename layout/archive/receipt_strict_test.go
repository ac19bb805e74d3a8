package archive

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
)

// TestReadReceiptStrictKeys (RELIABILITY A-8): a key that is not exactly
// one of the receipt's own (case variants, unknown keys), null or any
// non-object, a null field and a missing blobs field are rejected as
// invalid JSON naming the key; the documented shapes are accepted.
func TestReadReceiptStrictKeys(t *testing.T) {
	d := `"sha256:` + strings.Repeat("a", 64) + `"`
	for body, says := range map[string]string{
		`{"Blobs":[` + d + `],"tags":{}}`: `unknown key "Blobs"`,
		`{"blobs":[],"Tags":{}}`:          `unknown key "Tags"`,
		`{"BLOBS":[]}`:                    `unknown key "BLOBS"`,
		`{"blobs":[],"extra":1}`:          `unknown key "extra"`,
		`{"extra":1}`:                     `unknown key "extra"`,
		`null`:                            "expected an object at offset 0",
		` null`:                           "expected an object at offset 1",
		`[]`:                              "expected an object",
		`"blobs"`:                         "expected an object",
		`{}`:                              `missing key "blobs"`,
		`{"tags":{}}`:                     `missing key "blobs"`,
		`{"blobs":null,"tags":{}}`:        `key "blobs": expected a value, found null`,
		`{"blobs":[],"tags":null}`:        `key "tags": expected a value, found null`,
	} {
		_, err := ReadReceipt(strings.NewReader(body))
		if !errors.Is(err, strictjson.ErrInvalid) || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: err = %v, want invalid JSON saying %q", body, err, says)
		}
	}
	for _, body := range []string{`{"blobs":[]}`, `{"blobs":[` + d + `],"tags":{"v1":` + d + `}}`, " {\n\"tags\": {}, \"blobs\": []}\n"} {
		if _, err := ReadReceipt(strings.NewReader(body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// TestReceiptFields: the keys ReadReceipt accepts are exactly what
// Encode writes.
func TestReceiptFields(t *testing.T) {
	if len(receiptFields) != 2 || !receiptFields["blobs"] || !receiptFields["tags"] {
		t.Errorf("receiptFields = %v", receiptFields)
	}
}

// TestReceiptBudget: MaxReceipt is I8's 8 MiB; Encode refuses a receipt
// ReadReceipt would refuse, and a receipt just under it round-trips.
func TestReceiptBudget(t *testing.T) {
	if MaxReceipt != 8<<20 {
		t.Fatalf("MaxReceipt = %d, want RELIABILITY I8's 8 MiB", MaxReceipt)
	}
	fits := fakeReceipt(MaxReceipt/79 - 10)
	var b bytes.Buffer
	if err := fits.Encode(&b); err != nil {
		t.Fatalf("%d blobs: %v", len(fits.Blobs), err)
	}
	if back, err := ReadReceipt(&b); err != nil || len(back.Blobs) != len(fits.Blobs) {
		t.Fatalf("read back: %v", err)
	}
	over := fakeReceipt(MaxReceipt/79 + 10)
	b.Reset()
	if err := over.Encode(&b); err == nil || b.Len() != 0 || !strings.Contains(err.Error(), fmt.Sprint(MaxReceipt)) {
		t.Fatalf("%d blobs: err = %v, %d bytes written; want an error naming the limit and nothing written", len(over.Blobs), err, b.Len())
	}
	big := `{"blobs":[` + strings.Repeat(`"sha256:`+strings.Repeat("a", 64)+`",`, MaxReceipt/73) + `]}`
	if _, err := ReadReceipt(strings.NewReader(big)); !errors.Is(err, strictjson.ErrTooLarge) {
		t.Fatalf("a %d byte receipt: err = %v, want ErrTooLarge", len(big), err)
	}
}

// fakeReceipt lists n distinct, valid digests.
func fakeReceipt(n int) *Receipt {
	r := &Receipt{Blobs: make([]digest.Digest, n), Tags: map[string]digest.Digest{}}
	for i := range r.Blobs {
		r.Blobs[i] = digest.Digest(fmt.Sprintf("sha256:%064x", i))
	}
	return r
}
