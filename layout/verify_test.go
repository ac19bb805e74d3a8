package layout_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas/testsuite"
	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func verify(t *testing.T, dir string, o layout.VerifyOptions) *layout.Report {
	t.Helper()
	l, err := open(t, dir, layout.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(ctx, o)
	if err != nil {
		t.Fatalf("Verify stopped: %v", err)
	}
	return rep
}

func TestVerifyGood(t *testing.T) {
	dir, a := goodLayout(t)
	rep := verify(t, dir, layout.VerifyOptions{Jobs: 2})
	leaves := a.layers[0].Size + a.layers[1].Size + 2
	if len(rep.Problems) != 0 || rep.Blobs != 4 || rep.Bytes != leaves || rep.Err() != nil {
		t.Fatalf("Verify of a good layout = %+v, want 4 blobs, %d bytes hashed, no problems", rep, leaves)
	}
}

// TestVerifyProblems covers RELIABILITY B-21 (bit rot), B-23 (a blob that
// is a symlink) and B-24 (missing blob), each reported with its kind, the
// digest and where it sits in the graph.
func TestVerifyProblems(t *testing.T) {
	type damage func(t *testing.T, dir string, a artifact) (kind, digestOf, detail string)
	cases := map[string]damage{
		"missing layer (B-24)": func(t *testing.T, dir string, a artifact) (string, string, string) {
			os.Remove(blobFile(dir, a.layers[1].Digest))
			return "missing", a.layers[1].Digest.String(), "layer 1 of v1"
		},
		"flipped byte (B-21)": func(t *testing.T, dir string, a artifact) (string, string, string) {
			flipByte(t, blobFile(dir, a.layers[0].Digest), 100)
			return "corrupt", a.layers[0].Digest.String(), "expected " + a.layers[0].Digest.String()
		},
		"symlinked blob (B-23)": func(t *testing.T, dir string, a artifact) (string, string, string) {
			// The link target holds the right bytes: the digest even matches.
			p := blobFile(dir, a.layers[0].Digest)
			target := t.TempDir() + "/secret"
			os.Rename(p, target)
			os.Symlink(target, p)
			return "corrupt", a.layers[0].Digest.String(), "not a regular file (symlink)"
		},
		"appended byte": func(t *testing.T, dir string, a artifact) (string, string, string) {
			f, _ := os.OpenFile(blobFile(dir, a.layers[1].Digest), os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{0})
			f.Close()
			return "corrupt", a.layers[1].Digest.String(), "size 3000 in descriptor, blob is 3001"
		},
		"missing manifest": func(t *testing.T, dir string, a artifact) (string, string, string) {
			os.Remove(blobFile(dir, a.manifest.Digest))
			return "missing", "", a.manifest.Digest.String()
		},
		"corrupt manifest": func(t *testing.T, dir string, a artifact) (string, string, string) {
			flipByte(t, blobFile(dir, a.manifest.Digest), 10)
			return "corrupt", "", "expected " + a.manifest.Digest.String()
		},
	}
	for name, hurt := range cases {
		t.Run(name, func(t *testing.T) {
			dir, a := goodLayout(t)
			kind, dgst, detail := hurt(t, dir, a)
			rep := verify(t, dir, layout.VerifyOptions{})
			if len(rep.Problems) != 1 {
				t.Fatalf("problems %+v, want exactly one", rep.Problems)
			}
			p := rep.Problems[0]
			if p.Kind != kind || string(p.Digest) != dgst || !strings.Contains(p.String(), detail) || !strings.Contains(p.String(), "v1") {
				t.Fatalf("problem %q (kind %s, digest %q); want kind %s, digest %q, mentioning %q and v1", p, p.Kind, p.Digest, kind, dgst, detail)
			}
			class := layout.ErrCorrupt
			if kind == "missing" {
				class = layout.ErrMissingBlob
			}
			if err := rep.Err(); !errors.Is(err, class) {
				t.Fatalf("Report.Err() = %v, want %v", err, class)
			}
		})
	}
}

// TestVerifyFast: --fast checks presence and size of large blobs but does
// not re-hash them; small blobs are always hashed.
func TestVerifyFast(t *testing.T) {
	dir := t.TempDir()
	l := openRW(t, dir)
	big := put(t, l, "application/octet-stream", testsuite.Content("big", layout.FastHashLimit+1))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test.v1", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{big}}
	m.SchemaVersion = 2
	put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	tag(t, l, "v1", putJSON(t, l, ocispec.MediaTypeImageManifest, m))
	l.Close()
	flipByte(t, blobFile(dir, big.Digest), 5)
	if rep := verify(t, dir, layout.VerifyOptions{Fast: true}); len(rep.Problems) != 0 || rep.Bytes != 2 {
		t.Fatalf("fast verify = %+v, want no problems and only the 2-byte config hashed", rep)
	}
	if rep := verify(t, dir, layout.VerifyOptions{}); len(rep.Problems) != 1 || rep.Problems[0].Digest != big.Digest {
		t.Fatalf("full verify = %+v, want the flipped byte found", rep.Problems)
	}
}

// TestVerifyRefs limits the check to one tag's graph.
func TestVerifyRefs(t *testing.T) {
	dir, _ := goodLayout(t)
	l := openRW(t, dir)
	b := putArtifact(t, l, "second")
	tag(t, l, "v2", b.manifest)
	l.Close()
	os.Remove(blobFile(dir, b.layers[0].Digest))
	if rep := verify(t, dir, layout.VerifyOptions{Refs: []layout.Ref{{Layout: dir, Tag: "v1"}}}); len(rep.Problems) != 0 {
		t.Fatalf("verify of v1 only = %+v, want no problems (the damage is in v2)", rep.Problems)
	}
	if rep := verify(t, dir, layout.VerifyOptions{Refs: []layout.Ref{{Layout: dir, Digest: b.manifest.Digest}}}); len(rep.Problems) != 1 {
		t.Fatalf("verify of v2's digest = %+v, want the missing layer", rep.Problems)
	}
}

func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
