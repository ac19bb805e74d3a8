package layout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PutDocument stores b, a JSON document of media type mediaType — an image
// manifest, an image index, or a JSON config — after the checks every
// reader of the layout applies to it, so that verify, gc, export and
// import never refuse what a writer stored:
//
//   - the media type is in the RFC 6838 grammar (ValidateMediaType);
//   - b is at most strictjson.MaxDocument bytes and strict JSON (no
//     duplicate or case-variant keys, no trailing data, valid UTF-8);
//   - a manifest or index passes ParseDocument (one kind, valid
//     descriptors, bounded) and the image-spec JSON schema, and its
//     artifactType, config and layer media types are in the grammar.
//
// A refusal wraps ErrInvalidArgument (the caller built a bad document) and
// nothing is written. The returned descriptor carries the media type,
// digest, size and, for a manifest or index, the document's artifactType.
func (l *Layout) PutDocument(ctx context.Context, mediaType string, b []byte) (ocispec.Descriptor, error) {
	desc, err := CheckDocument(mediaType, b)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	r, err := l.blobs.Put(ctx, bytes.NewReader(b), ocispec.Descriptor{MediaType: mediaType, Digest: desc.Digest, Size: desc.Size})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc.Digest, desc.Size = r.Descriptor.Digest, r.Descriptor.Size
	return desc, nil
}

// PutJSON encodes v and stores it with PutDocument.
func (l *Layout) PutJSON(ctx context.Context, mediaType string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	return l.PutDocument(ctx, mediaType, b)
}

// CheckDocument makes PutDocument's checks without storing anything and
// returns the descriptor the document would be stored under. Writers that
// stream a document elsewhere (an archive, a registry) use it to refuse
// what the far side's readers would.
func CheckDocument(mediaType string, b []byte) (ocispec.Descriptor, error) {
	bad := func(format string, args ...any) (ocispec.Descriptor, error) {
		return ocispec.Descriptor{}, fmt.Errorf("%w: refusing to write a %s document: %s", ErrInvalidArgument, mediaType, fmt.Sprintf(format, args...))
	}
	if err := ValidateMediaType(mediaType); err != nil {
		return bad("%v", err)
	}
	if len(b) > strictjson.MaxDocument {
		return bad("%d bytes, over the %d-byte limit every reader sets on a JSON document", len(b), strictjson.MaxDocument)
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if !IsManifest(mediaType) && !IsIndex(mediaType) {
		var v any
		if err := strictjson.Unmarshal(b, &v); err != nil {
			return bad("%v", err)
		}
		return desc, nil
	}
	doc, err := ParseDocument(b, desc)
	if err != nil {
		return bad("%v", err)
	}
	if err := doc.checkMediaTypes(); err != nil {
		return bad("%v", err)
	}
	if mediaType == ocispec.MediaTypeImageManifest || mediaType == ocispec.MediaTypeImageIndex {
		if err := ValidateSchema(b, doc.IsIndex()); err != nil {
			return bad("%v", err)
		}
	}
	desc.ArtifactType = doc.ArtifactType
	return desc, nil
}

// checkMediaTypes checks the grammar of the media types a document
// declares: its artifactType and those of its descriptors.
func (d *Document) checkMediaTypes() error {
	if d.ArtifactType != "" {
		if err := ValidateMediaType(d.ArtifactType); err != nil {
			return fmt.Errorf("artifactType: %w", err)
		}
	}
	for i, c := range d.Children() {
		if err := ValidateMediaType(c.MediaType); err != nil {
			return fmt.Errorf("%s: %w", childLabel(d, i), err)
		}
		if c.ArtifactType != "" {
			if err := ValidateMediaType(c.ArtifactType); err != nil {
				return fmt.Errorf("%s artifactType: %w", childLabel(d, i), err)
			}
		}
	}
	return nil
}

// ValidateMediaType checks mt against RFC 6838's grammar for a media type
// without parameters, the one the image-spec schema applies:
// type "/" subtype, each 1 to 127 characters, starting with a letter or
// digit, then letters, digits and !#$&-^_.+
func ValidateMediaType(mt string) error {
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || !restrictedName(typ) || !restrictedName(sub) {
		return fmt.Errorf("%q is not a media type: expected type/subtype, each starting with a letter or digit followed by letters, digits or !#$&-^_.+ (RFC 6838)", mt)
	}
	return nil
}

func restrictedName(s string) bool {
	if len(s) == 0 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return false
		}
		if !alnum && !strings.ContainsRune("!#$&-^_.+", rune(c)) {
			return false
		}
	}
	return true
}
