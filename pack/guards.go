package pack

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Checks Pack makes before it writes: inputs outside the output layout
// (C-36), and JSON documents within every reader's budget (I8).

// checkInputsOutside refuses, before any is read or expanded, an input,
// config or icon that is the output layout or lies inside it (C-36).
func checkInputsOutside(g *layoutGuard, inputs []Input, o Options) error {
	for _, in := range inputs {
		if err := g.check("input", in.Path); err != nil {
			return err
		}
	}
	if err := g.check("config file", o.ConfigPath); err != nil {
		return err
	}
	return g.check("icon file", o.Icon)
}

// checkDocumentSize refuses a JSON document of n bytes — the manifest, a
// JSON config — that every reader of the layout would refuse: RELIABILITY
// I8 bounds a JSON document to strictjson.MaxDocument, and a layout
// holding a bigger one fails verify, gc, export and extract. The error
// wraps layout.ErrInvalidArgument and says what to do instead.
func checkDocumentSize(what string, n int64) error {
	if n <= strictjson.MaxDocument {
		return nil
	}
	return fmt.Errorf("%w: the %s would be %d bytes, over the %d-byte limit every reader sets on a JSON document: pack fewer files per artifact, or pack the directory as one tar layer (without a preset)",
		layout.ErrInvalidArgument, what, n, strictjson.MaxDocument)
}

// placeholderDigest has the length of every digest pack writes (sha256).
var placeholderDigest = digest.Digest("sha256:" + strings.Repeat("0", 64))

// layersLowerBound is at most the number of bytes the manifest's layers
// will take, known before any is built: each layer's descriptor as
// planned, with a digest of the final length, size 0 and only the
// annotations it is sure to carry. Checking it refuses an oversized
// manifest before hours of hashing, not after.
func layersLowerBound(plans []*layerPlan, ann map[string]map[string]string) int64 {
	var n int64
	for _, p := range plans {
		d := ocispec.Descriptor{MediaType: p.mediaType, Digest: placeholderDigest, Annotations: mergeAnnotations(p.annotations, ann[p.title])}
		b, err := json.Marshal(d)
		if err != nil {
			continue // cannot happen for strings; the manifest check still runs
		}
		n += int64(len(b)) + 1 // and a comma
	}
	return n
}

// checkConfigSize refuses, before storing it, a config file with a JSON
// media type over the JSON document budget (see checkDocumentSize).
// Configs of other types are opaque to readers and not bounded.
func checkConfigSize(f *os.File, p, mediaType string) error {
	if !isJSONMediaType(mediaType) {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("config %s: %w", p, err)
	}
	return checkDocumentSize("config "+p, fi.Size())
}

// isJSONMediaType reports whether readers parse a blob of type mt as JSON.
func isJSONMediaType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
