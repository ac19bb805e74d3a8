package layout_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fuzztest"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	mtManifest = ocispec.MediaTypeImageManifest
	mtIndex    = ocispec.MediaTypeImageIndex
)

// seedIndexes are index.json documents: good ones (tags, platforms,
// annotations, data, a Docker list) and RELIABILITY and
// A-13 shapes.
func seedIndexes() map[string]string {
	tagged := func(tag string) string { return indexWith(descJSON(dA, fmt.Sprintf("%q", tag))) }
	m := map[string]string{
		"empty":         emptyIndex,
		"minimal":       `{"schemaVersion":2,"manifests":[]}`,
		"tags":          indexWith(descJSON(dA, `"v1.0-rc_1+build"`), descJSON(dA, `"a/b--c"`), descJSON(dB, `"1:2@3"`), descJSON(dB, "")),
		"platform-data": indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dA.String() + `","size":2,"data":"e30=","urls":["https://x/y"],"platform":{"architecture":"amd64","os":"linux","os.features":["a"]},"artifactType":"application/x","annotations":{"a":"<&>","org.opencontainers.image.ref.name":"v1"}}`),
		"docker-list":   `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[` + descJSON(dA, `"latest"`) + `]}`,
		"subject":       `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"subject":` + descJSON(dB, "") + `,"annotations":{"x":"y"}}`,
		"a5-path":       indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../etc/passwd","size":1}`),
		"a5-sha512":     indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest.SHA512.FromString("a").String() + `","size":1}`),
		"a4-negative":   indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dA.String() + `","size":-1}`),
		"a4-huge":       indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dA.String() + `","size":1e400}`),
		"a8-dup-key":    `{"schemaVersion":2,"manifests":[` + descJSON(dA, `"v1"`) + `],"manifests":[]}`,
		"a8-case":       `{"schemaVersion":2,"manifests":[],"Manifests":[` + descJSON(dA, "") + `]}`,
		"a8-trailing":   emptyIndex + indexWith(descJSON(dA, `"evil"`)),
		"a8-bom":        "\xef\xbb\xbf" + emptyIndex,
		"a8-surrogate":  indexWith(descJSON(dA, `"v\ud800"`)),
		"a8-utf8":       indexWith(descJSON(dA, "\"v\xff\"")),
		"a8-truncated":  emptyIndex[:40],
		"a12-two":       indexWith(descJSON(dA, `"v1"`), descJSON(dB, `"v1"`)),
		"a12-twice":     indexWith(descJSON(dA, `"v1"`), descJSON(dA, `"v1"`)),
		"f54-nesting":   strings.Repeat("[", 100) + strings.Repeat("]", 100),
	}
	for i, tag := range []string{"../../etc/cron.d/x", "a/b/../c", "", strings.Repeat("a", 256), "a\x00b", "a\nb", "-lead", "v\u202e1"} {
		m[fmt.Sprintf("a13-%d", i)] = tagged(tag)
	}
	return m
}

// FuzzParseIndex: ParseIndex never panics; a rejection is an error whose
// text carries no raw newline or NUL; an accepted index has valid
// descriptors and valid, unique tags, and — as UpdateIndex writes it —
// re-marshals into a document ParseIndex accepts again with the same
// descriptors, tags and bytes on a second round.
func FuzzParseIndex(f *testing.F) {
	for name, doc := range seedIndexes() {
		fuzztest.Seed(f, name, []byte(doc))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := layout.ParseIndex(b)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\x00") {
				t.Fatalf("error %q carries raw control characters", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, tg := range layout.Tags(idx) {
			if err := layout.ValidateTag(tg.Name); err != nil || seen[tg.Name] {
				t.Fatalf("accepted index with tag %q (valid: %v, repeated: %v)", tg.Name, err, seen[tg.Name])
			}
			seen[tg.Name] = true
		}
		for i, d := range idx.Manifests {
			if err := layout.CheckDescriptor(d); err != nil {
				t.Fatalf("accepted index with a bad manifests[%d]: %v", i, err)
			}
		}
		b2, err := json.Marshal(idx)
		if err != nil {
			t.Fatalf("accepted index does not marshal: %v", err)
		}
		idx2, err := layout.ParseIndex(b2)
		if err != nil {
			t.Fatalf("accepted %q, but its re-marshalled form %q is rejected: %v", b, b2, err)
		}
		if a, b := tagList(idx), tagList(idx2); !reflect.DeepEqual(a, b) {
			t.Fatalf("re-marshalled index has other tags:\n%q\n%q", a, b)
		}
		if b3, _ := json.Marshal(idx2); string(b3) != string(b2) {
			t.Fatalf("re-marshalled index differs:\n%s\n%s", b2, b3)
		}
	})
}

// tagList lists idx's tags with what they point at.
func tagList(idx *ocispec.Index) []string {
	var out []string
	for _, tg := range layout.Tags(idx) {
		d := tg.Descriptor
		out = append(out, fmt.Sprintf("%s %s %s %d", tg.Name, d.MediaType, d.Digest, d.Size))
	}
	return out
}

// FuzzParseDocument (RELIABILITY I10, A-4, A-5, F-54): ParseDocument
// never panics; an accepted document is schemaVersion 2, one kind only
// (never manifests and config/layers), consistent with the media types,
// with valid children; and encoding/json, decoding it into the image-spec
// type of its kind, sees the same children — no decoder differential.
func FuzzParseDocument(f *testing.F) {
	cfg := `{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}`
	layer := `{"mediaType":"application/octet-stream","digest":"` + dA.String() + `","size":4096,"annotations":{"org.opencontainers.image.title":"a.bin"}}`
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/x","config":` + cfg + `,"layers":[` + layer + `]}`
	for name, c := range map[string]struct{ doc, mt string }{
		"manifest":            {manifest, mtManifest},
		"manifest-no-mt":      {`{"schemaVersion":2,"config":` + cfg + `,"layers":[]}`, ""},
		"manifest-subject":    {`{"schemaVersion":2,"config":` + cfg + `,"layers":[],"subject":` + descJSON(dB, "") + `}`, mtManifest},
		"index":               {indexWith(descJSON(dA, "")), mtIndex},
		"index-nested":        {indexWith(`{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"` + dB.String() + `","size":3}`), mtIndex},
		"docker-manifest":     {`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":` + cfg + `,"layers":[]}`, layout.MediaTypeDockerManifest},
		"i10-both-kinds":      {`{"schemaVersion":2,"config":` + cfg + `,"layers":[],"manifests":[]}`, ""},
		"i10-mt-mismatch":     {manifest, mtIndex},
		"i10-index-as-image":  {indexWith(descJSON(dA, "")), mtManifest},
		"a4-negative":         {strings.Replace(manifest, "4096", "-1", 1), mtManifest},
		"a4-absurd":           {strings.Replace(manifest, "4096", "4611686018427387904", 1), mtManifest},
		"a4-overflow":         {strings.Replace(manifest, "4096", "1e400", 1), mtManifest},
		"a5-digest":           {strings.Replace(manifest, dA.String(), "sha256:../../etc/passwd", 1), mtManifest},
		"a8-case-digest":      {strings.Replace(manifest, `"size":4096`, `"size":4096,"Digest":"`+dB.String()+`"`, 1), mtManifest},
		"no-config":           {`{"schemaVersion":2,"layers":[]}`, mtManifest},
		"schema-1":            {strings.Replace(manifest, `"schemaVersion":2`, `"schemaVersion":1`, 1), mtManifest},
		"f54-deep":            {strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200), ""},
		"config-not-document": {`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`, ocispec.MediaTypeImageConfig},
	} {
		fuzztest.Seed(f, name, []byte(c.doc), c.mt)
	}
	f.Fuzz(func(t *testing.T, b []byte, mediaType string) {
		doc, err := layout.ParseDocument(b, ocispec.Descriptor{MediaType: mediaType})
		if err != nil {
			return
		}
		hasImage := doc.Config != nil || doc.Layers != nil
		switch {
		case doc.SchemaVersion != 2:
			t.Fatalf("accepted schemaVersion %d", doc.SchemaVersion)
		case doc.Manifests != nil && hasImage:
			t.Fatalf("accepted a document that is both an index and a manifest: %q", b)
		case doc.IsIndex() && (layout.IsManifest(mediaType) || layout.IsManifest(doc.MediaType)),
			!doc.IsIndex() && (layout.IsIndex(mediaType) || layout.IsIndex(doc.MediaType)):
			t.Fatalf("accepted %q as index=%v under descriptor media type %q", b, doc.IsIndex(), mediaType)
		case !doc.IsIndex() && doc.Config == nil:
			t.Fatalf("accepted a manifest without config: %q", b)
		}
		for i, c := range doc.Children() {
			if err := layout.CheckDescriptor(c); err != nil {
				t.Fatalf("accepted child %d: %v", i, err)
			}
		}
		var want []ocispec.Descriptor
		if doc.IsIndex() {
			var idx ocispec.Index
			if err := json.Unmarshal(b, &idx); err != nil {
				t.Fatalf("encoding/json rejects accepted index %q: %v", b, err)
			}
			want = idx.Manifests
		} else {
			var m ocispec.Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("encoding/json rejects accepted manifest %q: %v", b, err)
			}
			want = append([]ocispec.Descriptor{m.Config}, m.Layers...)
		}
		if got := doc.Children(); len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Fatalf("children differ from encoding/json's view:\n%+v\n%+v", got, want)
		}
	})
}

// FuzzParseRef: ParseRef never panics; an accepted reference has a
// layout path, at most one of a valid tag and a valid digest, prints back
// as the input, and parses again to itself.
func FuzzParseRef(f *testing.F) {
	d := digest.FromString("x")
	for i, s := range []string{
		"L", "L:v1", "a/b/L:v1.0-rc+1", "L@" + d.String(), "testdata:v1", "L:a:b", `C:\models\L:v1`, "/abs/L@" + d.String(),
		"L:v@" + d.String(), "L@x:y", "", ":v1", "L:", "L:../../x", "L:-v1", "L@sha256:../../x", "L@" + strings.ToUpper(d.String()),
		"L@md5:" + strings.Repeat("0", 32), "@" + d.String(), "L:" + strings.Repeat("a", 300), "L:v\x00", "C:", "C:/", "a@b@" + d.String(),
	} {
		fuzztest.Seed(f, fmt.Sprintf("ref-%02d", i), s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := layout.ParseRef(s)
		if err != nil {
			return
		}
		switch {
		case r.Layout == "":
			t.Fatalf("ParseRef(%q) = %+v: no layout path", s, r)
		case r.Tag != "" && r.Digest != "":
			t.Fatalf("ParseRef(%q) = %+v: both tag and digest", s, r)
		case r.Tag != "" && layout.ValidateTag(r.Tag) != nil:
			t.Fatalf("ParseRef(%q) accepted tag %q: %v", s, r.Tag, layout.ValidateTag(r.Tag))
		case r.Digest != "" && cas.Validate(r.Digest) != nil:
			t.Fatalf("ParseRef(%q) accepted digest %q", s, r.Digest)
		case r.String() != s:
			t.Fatalf("ParseRef(%q).String() = %q", s, r.String())
		}
		if r2, err := layout.ParseRef(r.String()); err != nil || r2 != r {
			t.Fatalf("ParseRef(%q) = %+v, %v; want %+v", r.String(), r2, err, r)
		}
	})
}

// FuzzValidateTag (RELIABILITY A-13): ValidateTag never panics; it
// accepts exactly the ref.name grammar of image-spec annotations.md up to
// MaxTagLength bytes (checked against a scanner written here, not the
// regexp); an accepted tag is a local relative path without control
// characters or a leading '-'; a rejection wraps ErrInvalidTag and quotes
// the tag, carrying no raw control character.
func FuzzValidateTag(f *testing.F) {
	for i, s := range []string{
		"v1", "v1.0-rc_1+build", "a/b--c", "1:2@3", "latest", strings.Repeat("a", 255), strings.Repeat("a", 256),
		"../../etc/cron.d/x", "a/b/../c", "", "a\x00b", "a\nb", "-lead", "a---b", "a__b", "a//b", "/a", "a/", "é", "a b", "sha256-" + dA.Encoded(),
	} {
		fuzztest.Seed(f, fmt.Sprintf("tag-%02d", i), s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := layout.ValidateTag(s)
		if want := refName(s) && len(s) <= layout.MaxTagLength; (err == nil) != want {
			t.Fatalf("ValidateTag(%q) = %v; grammar says valid=%v", s, err, want)
		}
		if err != nil {
			if !errors.Is(err, layout.ErrInvalidTag) || strings.ContainsAny(err.Error(), "\n\r\x00") {
				t.Fatalf("ValidateTag(%q) = %q: want ErrInvalidTag without raw control characters", s, err)
			}
			q := fmt.Sprintf("%q", s)
			if len(s) > layout.MaxTagLength {
				q = fmt.Sprintf("%.40q", s)
			}
			if !strings.Contains(err.Error(), q) {
				t.Fatalf("ValidateTag(%q) = %q: does not quote the tag", s, err)
			}
			return
		}
		if !filepath.IsLocal(s) || strings.HasPrefix(s, "-") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("ValidateTag accepted %q: not a safe relative name", s)
		}
	})
}

// refName scans the annotations.md ref.name grammar:
// component ("/" component)*, component = alnum+ (separator alnum+)*,
// separator = one of - . _ : @ + or "--".
func refName(s string) bool {
	for _, comp := range strings.Split(s, "/") {
		i, n := 0, len(comp)
		alnums := func() bool {
			start := i
			for i < n && ('a' <= comp[i] && comp[i] <= 'z' || 'A' <= comp[i] && comp[i] <= 'Z' || '0' <= comp[i] && comp[i] <= '9') {
				i++
			}
			return i > start
		}
		if !alnums() {
			return false
		}
		for i < n {
			switch {
			case strings.HasPrefix(comp[i:], "--"):
				i += 2
			case strings.IndexByte("-._:@+", comp[i]) >= 0:
				i++
			default:
				return false
			}
			if !alnums() {
				return false
			}
		}
	}
	return true
}
