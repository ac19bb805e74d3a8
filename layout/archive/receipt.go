package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
)

// MaxReceipt bounds a receipt read by ReadReceipt: room for about 800,000
// digests.
const MaxReceipt = 64 << 20

// Receipt is what a layout holds: every stored blob (a valid name and a
// regular file; not re-hashed) and every tag. A connected site exports
// with --exclude-from a receipt to send only what the other site lacks.
type Receipt struct {
	Blobs []digest.Digest          `json:"blobs"` // sorted
	Tags  map[string]digest.Digest `json:"tags"`
}

// MakeReceipt lists what l holds.
func MakeReceipt(ctx context.Context, l *layout.Layout) (*Receipt, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	r := &Receipt{Blobs: []digest.Digest{}, Tags: map[string]digest.Digest{}}
	for _, t := range layout.Tags(idx) {
		r.Tags[t.Name] = t.Descriptor.Digest
	}
	err = l.Blobs().Walk(ctx, func(i cas.Info) error {
		r.Blobs = append(r.Blobs, i.Digest)
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	sort.Slice(r.Blobs, func(i, j int) bool { return r.Blobs[i] < r.Blobs[j] })
	return r, nil
}

// Encode writes r as indented JSON with sorted blobs and tags (encoding/json
// sorts map keys), so the same layout always gives the same bytes.
func (r *Receipt) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
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
// MaxReceipt bytes, strict JSON, every digest and tag valid.
func ReadReceipt(rd io.Reader) (*Receipt, error) {
	b, err := strictjson.ReadAll(rd, MaxReceipt)
	if err != nil {
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
