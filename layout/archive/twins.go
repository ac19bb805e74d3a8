package archive

import (
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Carrying a tar twin once (issue 17).
//
// An image-volume layer (pack --preset modelcar, --image-volume) is an
// uncompressed tar of one file: header blocks, the file's bytes, zero
// padding. When the file's raw layer travels too (or the receiving site
// holds it), the export leaves the tar layer out and carries its recipe:
// the header bytes and the number of zero bytes after the file. The
// archive then holds the file's bytes once.
//
// Recipes travel in recipe documents (TwinsMediaType), each an ordinary
// blob of the archive (blobs/sha256/<hex>, verified on import like any
// blob), listed by digest in the archive's index.json annotation
// AnnotationTwins. oci-pack's import rebuilds every tar layer the layout
// lacks from its raw blob and recipe, verifies it against its digest and
// commits it like any blob, before the graph is checked and before any tag
// changes. Other readers see a valid layout that lacks those tar layers
// (as a delta export lacks what the site holds) plus unreferenced recipe
// blobs: `tar -x` works, and so does skopeo or oras on every tag whose
// graph is whole (the raw ModelPack artifact); ExportOptions.FullTwins
// carries the tar layers whole for them.

// TwinsMediaType is the media type of a recipe document.
const TwinsMediaType = "application/vnd.oci-pack.tar-twins.v1+json"

// AnnotationTwins, on an archive's index.json, lists the digests of its
// recipe documents, comma-separated.
const AnnotationTwins = "io.github.oci-pack.tar-twins"

// Recipe bounds: a recipe's header bytes are whole tar blocks, at most
// maxTwinPrefix of them (a deep path with PAX records needs a few KiB);
// the zero bytes after the file at most maxTwinSuffix (padding, two end
// blocks, and a tool's record padding up to 10 KiB); a document at most
// maxTwinsDoc bytes (under the 8 MiB JSON budget), and an archive at most
// maxTwinsDocs documents.
const (
	maxTwinPrefix = 64 << 10
	maxTwinSuffix = 16 << 10
	maxTwinsDoc   = 4 << 20
	maxTwinsDocs  = 1024
)

// twinsDoc is a recipe document.
type twinsDoc struct {
	MediaType string       `json:"mediaType"`
	Twins     []twinRecipe `json:"twins"`
}

// twinRecipe rebuilds the tar layer Digest (Size bytes) as Prefix, then the
// bytes of the raw blob Of, then Suffix zero bytes.
type twinRecipe struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	Of     twinOf        `json:"of"`
	Prefix []byte        `json:"prefix"` // base64 in JSON
	Suffix int64         `json:"suffix"`
}

type twinOf struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

func (r *twinRecipe) tarDesc() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: r.Digest, Size: r.Size}
}

func (r *twinRecipe) rawDesc() ocispec.Descriptor {
	return ocispec.Descriptor{Digest: r.Of.Digest, Size: r.Of.Size}
}

// check validates a recipe read from an archive: digests, sizes, and the
// bounds above; its bytes are checked when it is used (the rebuilt layer
// must match Digest).
func (r *twinRecipe) check() error {
	if err := cas.Validate(r.Digest); err != nil {
		return err
	}
	if err := cas.Validate(r.Of.Digest); err != nil {
		return fmt.Errorf("of: %w", err)
	}
	n := int64(len(r.Prefix))
	switch {
	case n == 0 || n%blockSize != 0 || n > maxTwinPrefix:
		return fmt.Errorf("header bytes: %d, expected whole %d-byte blocks, at most %d", n, blockSize, maxTwinPrefix)
	case r.Suffix < 0 || r.Suffix > maxTwinSuffix:
		return fmt.Errorf("suffix: %d zero bytes, expected 0 to %d", r.Suffix, maxTwinSuffix)
	case r.Of.Size < 0 || r.Size != n+r.Of.Size+r.Suffix:
		return fmt.Errorf("size %d, but %d header bytes + %d bytes of %s + %d zero bytes make %d", r.Size, n, r.Of.Size, r.Of.Digest, r.Suffix, n+r.Of.Size+r.Suffix)
	case r.Digest == r.Of.Digest:
		return fmt.Errorf("a layer cannot be its own twin")
	}
	return nil
}

// decodeTwins parses a recipe document strictly and checks every recipe.
func decodeTwins(b []byte) (*twinsDoc, error) {
	var doc twinsDoc
	if err := strictjson.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.MediaType != TwinsMediaType {
		return nil, fmt.Errorf("mediaType %q, expected %q", doc.MediaType, TwinsMediaType)
	}
	for i := range doc.Twins {
		if err := doc.Twins[i].check(); err != nil {
			return nil, fmt.Errorf("twins[%d] (%s): %v", i, doc.Twins[i].Digest, err)
		}
	}
	return &doc, nil
}

// twinDocDigests parses the AnnotationTwins value of an archive's
// index.json ("" when absent).
func twinDocDigests(idx *ocispec.Index) ([]digest.Digest, error) {
	v := idx.Annotations[AnnotationTwins]
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxTwinsDocs {
		return nil, fmt.Errorf("index.json annotation %s lists %d recipe documents, more than %d", AnnotationTwins, len(parts), maxTwinsDocs)
	}
	out := make([]digest.Digest, 0, len(parts))
	for _, p := range parts {
		d, err := cas.ParseDigest(p)
		if err != nil {
			return nil, fmt.Errorf("index.json annotation %s: %w", AnnotationTwins, err)
		}
		out = append(out, d)
	}
	return out, nil
}
