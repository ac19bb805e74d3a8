package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"
)

// MaxReceipt bounds a receipt: RELIABILITY I8's budget for one JSON
// document (a receipt is one, read from across the air gap), 8 MiB.
// Encode writes 79 bytes per sha256 blob, so that is room for about
// 106,000 blobs (fewer with many tags), more than MaxEntries, the most
// one archive may hold. A larger budget would also strain the 256 MiB
// memory bound: the bytes, the decoded digests and the exclusion set are
// all held at once. Encode refuses a receipt over the budget, so every
// receipt `oci-pack receipt` prints, ReadReceipt reads.
const MaxReceipt = strictjson.MaxDocument

// receiptFields are a receipt's top-level keys, exactly (case-sensitive),
// from Receipt's json tags; requiredField must be present.
var receiptFields = jsonNames(reflect.TypeFor[Receipt]())

const requiredField = "blobs"

// Receipt is what a layout holds: every stored blob that can be relied on
// (cas Check: verified since it last changed, re-hashed if not) and every
// tag. A connected site exports
// with --exclude-from a receipt to send only what the other site lacks.
type Receipt struct {
	Blobs []digest.Digest          `json:"blobs"` // sorted
	Tags  map[string]digest.Digest `json:"tags"`
}

// ReceiptOptions tune MakeReceipt.
type ReceiptOptions struct {
	// Jobs bounds the blobs re-hashed at once (<= 0: 1).
	Jobs int
	// Omitted, if not nil, is told of every stored blob left out because
	// it cannot be relied on, and why.
	Omitted func(d digest.Digest, why string)
}

// MakeReceipt lists what l holds (MakeReceiptWith, default options).
func MakeReceipt(ctx context.Context, l *layout.Layout) (*Receipt, error) {
	return MakeReceiptWith(ctx, l, ReceiptOptions{})
}

// MakeReceiptWith lists what l holds. A blob is listed only if it passes
// the trust check (RELIABILITY I6): a receipt that advertised a corrupt
// blob would make every later delta leave it out, and the site's imports
// fail for good. Blobs changed since their last verification are
// re-hashed.
func MakeReceiptWith(ctx context.Context, l *layout.Layout, o ReceiptOptions) (*Receipt, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	r := &Receipt{Blobs: []digest.Digest{}, Tags: map[string]digest.Digest{}}
	for _, t := range layout.Tags(idx) {
		r.Tags[t.Name] = t.Descriptor.Digest
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(o.Jobs, 1))
	err = l.Blobs().Walk(ctx, func(i cas.Info) error {
		g.Go(func() error {
			st, err := l.Blobs().Check(gctx, i.Digest)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if st.State == cas.Trusted {
				r.Blobs = append(r.Blobs, i.Digest)
			} else if o.Omitted != nil {
				o.Omitted(i.Digest, st.State.String()+": "+st.Why)
			}
			return nil
		})
		return gctx.Err()
	}, nil)
	if gerr := g.Wait(); gerr != nil {
		err = gerr // the check's own error, not the walk's cancellation
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(r.Blobs, func(i, j int) bool { return r.Blobs[i] < r.Blobs[j] })
	return r, nil
}

// Encode writes r as indented JSON with sorted blobs and tags (encoding/json
// sorts map keys), so the same layout always gives the same bytes. A
// receipt over MaxReceipt bytes is an error and nothing is written: the
// other site could not read it.
func (r *Receipt) Encode(w io.Writer) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return err
	}
	if b.Len() > MaxReceipt {
		return fmt.Errorf("receipt of %d blobs and %d tags: expected at most %d bytes (the receipt budget), found %d", len(r.Blobs), len(r.Tags), MaxReceipt, b.Len())
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Set returns the receipt's blobs as a set, for ExportOptions.Exclude.
func (r *Receipt) Set() map[digest.Digest]bool {
	m := make(map[digest.Digest]bool, len(r.Blobs))
	for _, d := range r.Blobs {
		m[d] = true
	}
	return m
}

// ReadReceipt parses a receipt strictly (it crossed an air gap): at most
// MaxReceipt bytes, strict JSON (RELIABILITY A-8), an object whose keys
// are exactly Receipt's field names (case-sensitive, none unknown, none
// null, blobs present), every digest and tag valid. Errors other than
// reading wrap strictjson.ErrInvalid or ErrTooLarge, or a cas sentinel
// for a bad digest.
func ReadReceipt(rd io.Reader) (*Receipt, error) {
	b, err := strictjson.ReadAll(rd, MaxReceipt)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	if err := checkReceiptKeys(b); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	var r Receipt
	if err := strictjson.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	for i, d := range r.Blobs {
		if err := cas.Validate(d); err != nil {
			return nil, fmt.Errorf("receipt: blobs[%d]: %w", i, err)
		}
	}
	for t, d := range r.Tags {
		if err := layout.ValidateTag(t); err != nil {
			return nil, fmt.Errorf("receipt: %v: %w", err, strictjson.ErrInvalid)
		}
		if err := cas.Validate(d); err != nil {
			return nil, fmt.Errorf("receipt: tag %q: %w", t, err)
		}
	}
	return &r, nil
}

// checkReceiptKeys checks b's top level before it is decoded into a
// Receipt: encoding/json would match "Blobs" to blobs, drop unknown keys
// and take null as an empty receipt, each a document this program never
// writes. Errors wrap strictjson.ErrInvalid and name the key.
func checkReceiptKeys(b []byte) error {
	if err := strictjson.Check(b); err != nil {
		return err
	}
	body := bytes.TrimLeft(b, " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return fmt.Errorf("%w: expected an object at offset %d, found %.12q", strictjson.ErrInvalid, len(b)-len(body), body)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("%w: %v", strictjson.ErrInvalid, err)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same key first every time
	for _, k := range keys {
		if !receiptFields[k] {
			return fmt.Errorf("%w: unknown key %q: expected one of %s (case-sensitive)", strictjson.ErrInvalid, k, fieldList())
		}
		if bytes.Equal(bytes.TrimSpace(top[k]), []byte("null")) {
			return fmt.Errorf("%w: key %q: expected a value, found null", strictjson.ErrInvalid, k)
		}
	}
	if _, ok := top[requiredField]; !ok {
		return fmt.Errorf("%w: missing key %q", strictjson.ErrInvalid, requiredField)
	}
	return nil
}

// fieldList is receiptFields quoted and sorted, for error messages.
func fieldList() string {
	names := make([]string, 0, len(receiptFields))
	for n := range receiptFields {
		names = append(names, strconv.Quote(n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// jsonNames returns the JSON names of struct type t's fields, as their
// json tags give them.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}

// LoadReceipt reads the receipt file at path (as ReadReceipt) and returns
// the set of blobs it lists, for ExportOptions.Exclude.
func LoadReceipt(path string) (map[digest.Digest]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ReadReceipt(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r.Set(), nil
}
