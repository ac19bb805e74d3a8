//go:build unix

package pack_test

import (
	"io"
	"path/filepath"
	"slices"
	"testing"

	apexlog "github.com/apex/log"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/umoci/oci/cas/dir"
	"github.com/opencontainers/umoci/oci/casext"
)

// TestUmociOracle opens layouts oci-pack wrote with umoci's CAS engine (an
// independent implementation of the layout spec), resolves every tag and
// reads every reachable blob through umoci's verifying reader. Anything
// umoci rejects is an interop bug in oci-pack.
func TestUmociOracle(t *testing.T) {
	if !testing.Verbose() {
		apexlog.SetLevel(apexlog.WarnLevel) // umoci logs every layer it does not parse
	}
	_, in := goldenInputs(t)
	L := filepath.Join(t.TempDir(), "L")
	want := map[string]digest.Digest{}
	for _, mode := range goldenModes {
		res := packInto(t, L, in, pack.Options{ArtifactType: goldenArtifactType, Compression: compress.Algorithm(mode), Jobs: 2})
		tagAs(t, L, mode, res.Manifest)
		want[mode] = res.Manifest.Digest
	}
	empty := packInto(t, L, nil, pack.Options{ArtifactType: goldenArtifactType})
	tagAs(t, L, "empty", empty.Manifest)
	want["empty"] = empty.Manifest.Digest
	want["v1"] = empty.Manifest.Digest // packInto's own tag, last moved here

	layouttest.Check(t, L)
	engine, err := dir.Open(L)
	if err != nil {
		t.Fatalf("umoci cannot open the layout: %v", err)
	}
	defer engine.Close()
	ext := casext.NewEngine(engine)
	names, err := ext.ListReferences(ctx)
	if err != nil {
		t.Fatalf("umoci ListReferences: %v", err)
	}
	slices.Sort(names)
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("umoci lists tags %q, want %q", names, wantNames)
	}
	for _, name := range names {
		paths, err := ext.ResolveReference(ctx, name)
		if err != nil || len(paths) != 1 || paths[0].Descriptor().Digest != want[name] {
			t.Fatalf("umoci ResolveReference(%q) = %v, %v; want one path to %s", name, paths, err, want[name])
		}
		blobs := 0
		err = ext.Walk(ctx, paths[0].Descriptor(), func(p casext.DescriptorPath) error {
			blobs++
			return readVerified(ext, p.Descriptor())
		})
		if err != nil {
			t.Fatalf("umoci walk of %q: %v", name, err)
		}
		wantBlobs := 2 + len(in) // manifest, config, layers
		if name == "empty" || name == "v1" {
			wantBlobs = 3
		}
		if blobs != wantBlobs {
			t.Fatalf("umoci walked %d descriptors of %q, want %d", blobs, name, wantBlobs)
		}
	}
	// Every blob in the layout, reachable or not, reads back verified.
	all, err := engine.ListBlobs(ctx)
	if err != nil {
		t.Fatalf("umoci ListBlobs: %v", err)
	}
	for _, d := range all {
		info, err := engine.GetBlob(ctx, d)
		if err != nil {
			t.Fatalf("umoci GetBlob(%s): %v", d, err)
		}
		n, err := io.Copy(io.Discard, info)
		info.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := readVerified(ext, ocispec.Descriptor{Digest: d, Size: n}); err != nil {
			t.Fatal(err)
		}
	}
}

func readVerified(ext casext.Engine, d ocispec.Descriptor) error {
	rc, err := ext.GetVerifiedBlob(ctx, d)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		rc.Close()
		return err
	}
	return rc.Close()
}

func tagAs(t *testing.T, dir, name string, d ocispec.Descriptor) {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Tag(ctx, name, d, layout.ConflictOverwrite); err != nil {
		t.Fatal(err)
	}
}
