package rtest

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types and names of the good/ fixture.
const (
	ArtifactType = "application/vnd.oci-pack.test.v1"
	ConfigType   = "application/vnd.oci-pack.test.config.v1+json"
	LayerType    = "application/octet-stream"
	TitleKey     = ocispec.AnnotationTitle
	RefNameKey   = ocispec.AnnotationRefName
)

// Fixture is a layout held in memory — blobs by digest and index.json —
// that tests edit and then write as a directory or as an archive. Edits go
// through methods that re-hash and re-link the documents, so every digest
// stays valid unless a test breaks one on purpose.
type Fixture struct {
	Blobs map[digest.Digest][]byte
	Order []digest.Digest // blob order in archives: as added
	Index ocispec.Index
	// IndexRaw and LayoutRaw, if non-nil, replace the marshalled
	// index.json and oci-layout.
	IndexRaw, LayoutRaw []byte
}

// Good is RELIABILITY's good/: tag v1 on one manifest with a JSON config
// and two raw layers of a few KB (titles a.bin and b.bin).
func Good(t testing.TB) *Fixture {
	t.Helper()
	f := &Fixture{Blobs: map[digest.Digest][]byte{}, Index: ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}}
	f.Index.SchemaVersion = 2
	cfg := f.Put([]byte(`{"name":"good"}`))
	a, b := f.Put(Bytes(4096, 1)), f.Put(Bytes(3000, 2))
	m := ocispec.Manifest{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType,
		Config:       ocispec.Descriptor{MediaType: ConfigType, Digest: cfg, Size: int64(len(f.Blobs[cfg]))},
		Layers: []ocispec.Descriptor{
			{MediaType: LayerType, Digest: a, Size: 4096, Annotations: map[string]string{TitleKey: "a.bin"}},
			{MediaType: LayerType, Digest: b, Size: 3000, Annotations: map[string]string{TitleKey: "b.bin"}},
		},
	}
	m.SchemaVersion = 2
	f.SetTag(t, "v1", f.PutJSON(t, ocispec.MediaTypeImageManifest, m))
	return f
}

// Bytes is n deterministic pseudo-random bytes from seed.
func Bytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Clone is a deep copy of f.
func (f *Fixture) Clone(t testing.TB) *Fixture {
	t.Helper()
	g := &Fixture{Blobs: map[digest.Digest][]byte{}, Order: append([]digest.Digest(nil), f.Order...),
		IndexRaw: f.IndexRaw, LayoutRaw: f.LayoutRaw}
	for d, b := range f.Blobs {
		g.Blobs[d] = b
	}
	b, _ := json.Marshal(f.Index)
	if err := json.Unmarshal(b, &g.Index); err != nil {
		t.Fatal(err)
	}
	return g
}

// Put adds a blob and returns its digest.
func (f *Fixture) Put(b []byte) digest.Digest {
	d := digest.FromBytes(b)
	if _, ok := f.Blobs[d]; !ok {
		f.Order = append(f.Order, d)
	}
	f.Blobs[d] = b
	return d
}

// PutJSON marshals v, adds it and returns its descriptor of mediaType.
func (f *Fixture) PutJSON(t testing.TB, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: f.Put(b), Size: int64(len(b))}
}

// Remove drops a blob (the layout then lacks it).
func (f *Fixture) Remove(d digest.Digest) {
	delete(f.Blobs, d)
	for i, o := range f.Order {
		if o == d {
			f.Order = append(f.Order[:i], f.Order[i+1:]...)
			break
		}
	}
}

// SetTag points tag at desc in index.json, adding the entry if missing.
func (f *Fixture) SetTag(t testing.TB, tag string, desc ocispec.Descriptor) {
	t.Helper()
	desc.Annotations = map[string]string{RefNameKey: tag}
	for i, m := range f.Index.Manifests {
		if m.Annotations[RefNameKey] == tag {
			f.Index.Manifests[i] = desc
			return
		}
	}
	f.Index.Manifests = append(f.Index.Manifests, desc)
}

// Tagged is tag's descriptor in index.json.
func (f *Fixture) Tagged(t testing.TB, tag string) ocispec.Descriptor {
	t.Helper()
	for _, m := range f.Index.Manifests {
		if m.Annotations[RefNameKey] == tag {
			return m
		}
	}
	t.Fatalf("fixture has no tag %q", tag)
	return ocispec.Descriptor{}
}

// Manifest is the image manifest tag points at.
func (f *Fixture) Manifest(t testing.TB, tag string) ocispec.Manifest {
	t.Helper()
	var m ocispec.Manifest
	if err := json.Unmarshal(f.Blobs[f.Tagged(t, tag).Digest], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// EditManifest applies edit to tag's manifest, stores the result under its
// new digest (dropping the old one) and re-links tag to it.
func (f *Fixture) EditManifest(t testing.TB, tag string, edit func(*ocispec.Manifest)) ocispec.Descriptor {
	t.Helper()
	m := f.Manifest(t, tag)
	edit(&m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return f.RelinkRaw(t, tag, b)
}

// RelinkRaw stores raw as tag's manifest (whatever it holds), dropping the
// old one, and points tag at it with the right digest and size, keeping
// the old descriptor's media type.
func (f *Fixture) RelinkRaw(t testing.TB, tag string, raw []byte) ocispec.Descriptor {
	t.Helper()
	old := f.Tagged(t, tag)
	f.Remove(old.Digest)
	d := ocispec.Descriptor{MediaType: old.MediaType, Digest: f.Put(raw), Size: int64(len(raw))}
	f.SetTag(t, tag, d)
	return d
}

// IndexBytes is index.json as written.
func (f *Fixture) IndexBytes(t testing.TB) []byte {
	t.Helper()
	if f.IndexRaw != nil {
		return f.IndexRaw
	}
	b, err := json.Marshal(f.Index)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *Fixture) layoutBytes() []byte {
	if f.LayoutRaw != nil {
		return f.LayoutRaw
	}
	return []byte(`{"imageLayoutVersion":"1.0.0"}`)
}

// BlobName is d's path in a layout, slash-separated.
func BlobName(d digest.Digest) string { return "blobs/" + d.Algorithm().String() + "/" + d.Encoded() }

// Members are the archive entries of f as oci-pack exports them:
// oci-layout, the blobs in Order, index.json last.
func (f *Fixture) Members(t testing.TB) []Entry {
	t.Helper()
	out := []Entry{Reg("oci-layout", f.layoutBytes())}
	for _, d := range f.Order {
		out = append(out, Reg(BlobName(d), f.Blobs[d]))
	}
	return append(out, Reg("index.json", f.IndexBytes(t)))
}

// Tar is f as an archive.
func (f *Fixture) Tar(t testing.TB) []byte {
	t.Helper()
	return Tar(t, f.Members(t)...)
}

// WriteDir writes f as a layout directory at dir (created).
func (f *Fixture) WriteDir(t testing.TB, dir string) string {
	t.Helper()
	for _, e := range f.Members(t) {
		p := filepath.Join(dir, filepath.FromSlash(e.Hdr.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.Body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
