// Package layouttest re-validates a whole OCI image layout after a test
// wrote to it — go-containerregistry's `validate` habit. It reads the
// directory itself and shares no code with package layout beyond the strict
// JSON checker, so it can catch what layout gets wrong.
//
// Call Check at the end of every test that writes a layout, after every
// writer has been closed:
//
//	layouttest.Check(t, dir)
package layouttest

import (
	"bytes"
	_ "crypto/sha256" // register with go-digest
	_ "crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/schema"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Check fails t, listing every problem Validate finds in the layout at dir.
func Check(t testing.TB, dir string) {
	t.Helper()
	if err := Validate(dir); err != nil {
		t.Fatalf("layout %s is not valid:\n%v", dir, err)
	}
}

// Validate checks the layout at dir and returns every problem found,
// joined, or nil:
//   - oci-layout and index.json are regular files of strict, schema-valid
//     JSON (imageLayoutVersion 1.0.0; an image index with valid, unique
//     ref.name tags);
//   - every blob reachable from index.json (through manifests and indexes,
//     at most 32 deep) is a regular file of the descriptor's size whose
//     bytes hash to its digest, and every reachable manifest and index is
//     strict, schema-valid JSON of the media type its descriptor says;
//   - every file under blobs/, reachable or not, is a regular file named by
//     a valid digest of its own content (a blob only appears committed);
//   - .oci-pack/tmp holds no staging left behind.
func Validate(dir string) error {
	v := &validator{dir: dir, seen: map[digest.Digest]bool{}}
	v.checkLayoutFile()
	if fi, err := os.Lstat(filepath.Join(dir, "blobs")); err != nil || !fi.IsDir() {
		v.addf("blobs: not a directory (%v)", err)
	}
	if idx := v.checkIndex(); idx != nil {
		for i, d := range idx.Manifests {
			v.walk(d, fmt.Sprintf("index.json manifests[%d]", i), 0)
		}
	}
	v.checkAllBlobs()
	v.checkStaging()
	return errors.Join(v.problems...)
}

type validator struct {
	dir      string
	problems []error
	seen     map[digest.Digest]bool
}

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Errorf(format, args...))
}

// readJSON reads a top-level file that must be a regular file of strict
// JSON.
func (v *validator) readJSON(name string) []byte {
	p := filepath.Join(v.dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		v.addf("%s: %v", name, err)
		return nil
	}
	if !fi.Mode().IsRegular() {
		v.addf("%s: not a regular file (%v)", name, fi.Mode().Type())
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		v.addf("%s: %v", name, err)
		return nil
	}
	if err := strictjson.Check(b); err != nil {
		v.addf("%s: %v", name, err)
		return nil
	}
	return b
}

func (v *validator) checkLayoutFile() {
	b := v.readJSON("oci-layout")
	if b == nil {
		return
	}
	if err := schema.ValidatorMediaTypeLayoutHeader.Validate(bytes.NewReader(b)); err != nil {
		v.addf("oci-layout: schema: %v", err)
	}
	var l ocispec.ImageLayout
	if err := json.Unmarshal(b, &l); err != nil || l.Version != ocispec.ImageLayoutVersion {
		v.addf("oci-layout: imageLayoutVersion %q (%v), want %q", l.Version, err, ocispec.ImageLayoutVersion)
	}
}

// refName is the org.opencontainers.image.ref.name grammar of image-spec
// annotations.md, written out here independently of package layout.
var refName = regexp.MustCompile(`^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$`)

func (v *validator) checkIndex() *ocispec.Index {
	b := v.readJSON("index.json")
	if b == nil {
		return nil
	}
	if err := schema.ValidatorMediaTypeImageIndex.Validate(bytes.NewReader(b)); err != nil {
		v.addf("index.json: schema: %v", err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		v.addf("index.json: %v", err)
		return nil
	}
	if idx.SchemaVersion != 2 || idx.MediaType != ocispec.MediaTypeImageIndex {
		v.addf("index.json: schemaVersion %d mediaType %q, want 2 and %q", idx.SchemaVersion, idx.MediaType, ocispec.MediaTypeImageIndex)
	}
	tags := map[string]digest.Digest{}
	for i, d := range idx.Manifests {
		name, ok := d.Annotations[ocispec.AnnotationRefName]
		if !ok {
			continue
		}
		if !refName.MatchString(name) {
			v.addf("index.json manifests[%d]: invalid tag %q", i, name)
		}
		if prev, dup := tags[name]; dup {
			v.addf("index.json: tag %q listed twice (%s and %s)", name, prev, d.Digest)
		}
		tags[name] = d.Digest
	}
	return &idx
}

// blobPath validates d and returns its path, or "" after reporting it.
func (v *validator) blobPath(d digest.Digest, where string) string {
	if err := d.Validate(); err != nil {
		v.addf("%s: invalid digest %q: %v", where, d, err)
		return ""
	}
	return filepath.Join(v.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// readBlob checks that desc's blob is a regular file of the right size
// and digest, and returns its bytes when keep is set (for documents).
func (v *validator) readBlob(desc ocispec.Descriptor, where string, keep bool) ([]byte, bool) {
	p := v.blobPath(desc.Digest, where)
	if p == "" {
		return nil, false
	}
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		v.addf("%s %s: %v", where, desc.Digest, err)
		return nil, false
	case !fi.Mode().IsRegular():
		v.addf("%s %s: not a regular file (%v)", where, desc.Digest, fi.Mode().Type())
		return nil, false
	case fi.Size() != desc.Size:
		v.addf("%s %s: size %d in descriptor, blob is %d", where, desc.Digest, desc.Size, fi.Size())
		return nil, false
	}
	f, err := os.Open(p)
	if err != nil {
		v.addf("%s %s: %v", where, desc.Digest, err)
		return nil, false
	}
	defer f.Close()
	h := desc.Digest.Algorithm().Hash()
	var buf bytes.Buffer
	w := io.Writer(h)
	if keep {
		w = io.MultiWriter(h, &buf)
	}
	if _, err := io.Copy(w, f); err != nil {
		v.addf("%s %s: %v", where, desc.Digest, err)
		return nil, false
	}
	if got := digest.NewDigest(desc.Digest.Algorithm(), h); got != desc.Digest {
		v.addf("%s %s: content is %s", where, desc.Digest, got)
		return nil, false
	}
	return buf.Bytes(), true
}

func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == "application/vnd.docker.distribution.manifest.v2+json"
}

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == "application/vnd.docker.distribution.manifest.list.v2+json"
}

// walk checks desc and, for manifests and indexes, their children.
func (v *validator) walk(desc ocispec.Descriptor, where string, depth int) {
	if v.seen[desc.Digest] {
		return
	}
	v.seen[desc.Digest] = true
	if depth > 32 {
		v.addf("%s: graph deeper than 32", where)
		return
	}
	doc := isManifest(desc.MediaType) || isIndex(desc.MediaType)
	b, ok := v.readBlob(desc, where, doc || desc.MediaType == ocispec.MediaTypeImageConfig)
	if !ok {
		return
	}
	if desc.MediaType == ocispec.MediaTypeImageConfig {
		if err := schema.ValidatorMediaTypeImageConfig.Validate(bytes.NewReader(b)); err != nil {
			v.addf("%s %s: image config schema: %v", where, desc.Digest, err)
		}
	}
	if !doc {
		return
	}
	if err := strictjson.Check(b); err != nil {
		v.addf("%s %s: %v", where, desc.Digest, err)
		return
	}
	var m struct {
		MediaType string               `json:"mediaType"`
		Config    *ocispec.Descriptor  `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
		Manifests []ocispec.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		v.addf("%s %s: %v", where, desc.Digest, err)
		return
	}
	// A document's own mediaType is a SHOULD in image-spec (manifest.md,
	// image-index.md); when present it must agree with the descriptor.
	if m.MediaType != "" && m.MediaType != desc.MediaType {
		v.addf("%s %s: document mediaType %q, descriptor says %q", where, desc.Digest, m.MediaType, desc.MediaType)
	}
	if isIndex(desc.MediaType) {
		if desc.MediaType == ocispec.MediaTypeImageIndex {
			if err := schema.ValidatorMediaTypeImageIndex.Validate(bytes.NewReader(b)); err != nil {
				v.addf("%s %s: index schema: %v", where, desc.Digest, err)
			}
		}
		for i, c := range m.Manifests {
			v.walk(c, fmt.Sprintf("manifest %d of %s", i, where), depth+1)
		}
		return
	}
	if desc.MediaType == ocispec.MediaTypeImageManifest {
		if err := schema.ValidatorMediaTypeManifest.Validate(bytes.NewReader(b)); err != nil {
			v.addf("%s %s: manifest schema: %v", where, desc.Digest, err)
		}
	}
	if m.Config == nil {
		v.addf("%s %s: manifest without config", where, desc.Digest)
	} else {
		v.walk(*m.Config, "config of "+where, depth+1)
	}
	for i, l := range m.Layers {
		v.walk(l, fmt.Sprintf("layer %d of %s", i, where), depth+1)
	}
}

// checkAllBlobs checks that everything under blobs/ is a committed blob.
func (v *validator) checkAllBlobs() {
	algs, err := os.ReadDir(filepath.Join(v.dir, "blobs"))
	if err != nil {
		return // reported by Validate
	}
	for _, a := range algs {
		if !a.IsDir() {
			v.addf("blobs/%s: not a directory", a.Name())
			continue
		}
		entries, err := os.ReadDir(filepath.Join(v.dir, "blobs", a.Name()))
		if err != nil {
			v.addf("blobs/%s: %v", a.Name(), err)
			continue
		}
		for _, e := range entries {
			d := digest.NewDigestFromEncoded(digest.Algorithm(a.Name()), e.Name())
			where := "blobs/" + a.Name() + "/" + e.Name()
			if d.Validate() != nil {
				v.addf("%s: not named by a valid digest", where)
				continue
			}
			if v.seen[d] {
				continue // checked by walk
			}
			fi, err := e.Info()
			if err != nil {
				v.addf("%s: %v", where, err)
				continue
			}
			v.readBlob(ocispec.Descriptor{Digest: d, Size: fi.Size()}, "unreferenced blob", false)
		}
	}
}

func (v *validator) checkStaging() {
	entries, err := os.ReadDir(filepath.Join(v.dir, ".oci-pack", "tmp"))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			v.addf(".oci-pack/tmp: %v", err)
		}
		return
	}
	for _, e := range entries {
		v.addf(".oci-pack/tmp/%s: staging left behind", e.Name())
	}
}
