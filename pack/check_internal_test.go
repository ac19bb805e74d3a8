package pack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
)

func blobCount(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// An existing tag is decided before any input is read: skip does nothing,
// fail refuses unless the stat cache vouches for every input, and then an
// unchanged re-pack ends as it started.
func TestPreflightTag(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.bin"), []byte("aaaa"), 0o644)
	os.MkdirAll(filepath.Join(src, "d"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "x.txt"), []byte("x"), 0o644)
	in := []Input{{Path: filepath.Join(src, "a.bin")}, {Path: filepath.Join(src, "d")}}
	dir := filepath.Join(t.TempDir(), "L")
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	o := Options{ArtifactType: "application/vnd.test.v1", Tag: "v1"}
	first, err := Pack(ctx, l, in, o)
	if err != nil {
		t.Fatal(err)
	}
	n := blobCount(t, dir)

	// Just written: within the racy window, the cache vouches for nothing.
	_, err = Pack(ctx, l, in, o)
	if !errors.Is(err, ErrTagUnproven) || !errors.Is(err, layout.ErrTagExists) {
		t.Fatalf("re-pack of fresh inputs onto the tag: %v, want ErrTagUnproven", err)
	}
	// A different input: refused, nothing stored.
	os.WriteFile(filepath.Join(src, "b.bin"), []byte("a new input"), 0o644)
	if _, err := Pack(ctx, l, []Input{{Path: filepath.Join(src, "b.bin")}}, o); !errors.Is(err, ErrTagUnproven) {
		t.Fatalf("pack of other inputs onto the tag: %v", err)
	}
	if got := blobCount(t, dir); got != n {
		t.Fatalf("a refused pack stored %d new blob(s)", got-n)
	}
	// skip: nothing to do, the tagged artifact reported.
	os2 := o
	os2.TagConflict = layout.ConflictSkip
	res, err := Pack(ctx, l, []Input{{Path: filepath.Join(src, "b.bin")}}, os2)
	if err != nil || !res.TagChange.Skipped || res.Manifest.Digest != first.Manifest.Digest || blobCount(t, dir) != n {
		t.Fatalf("skip: %+v, %v", res, err)
	}

	// Later (past the racy window) the cache vouches for the inputs: the
	// re-pack reads nothing and ends with the same digest.
	defer func(c func() time.Time) { clock = c }(clock)
	clock = func() time.Time { return time.Now().Add(time.Minute) }
	if _, err := Pack(ctx, l, in, Options{ArtifactType: o.ArtifactType, Tag: "v0"}); err != nil { // records the stamps
		t.Fatal(err)
	}
	again, err := Pack(ctx, l, in, o)
	if err != nil || again.Manifest.Digest != first.Manifest.Digest || again.Written != 0 {
		t.Fatalf("unchanged re-pack: %+v, %v; want %s with nothing written", again, err, first.Manifest.Digest)
	}
	// A changed file is not vouched for.
	os.WriteFile(filepath.Join(src, "a.bin"), []byte("changed"), 0o644)
	if _, err := Pack(ctx, l, in, o); !errors.Is(err, ErrTagUnproven) {
		t.Fatalf("re-pack after a change: %v, want ErrTagUnproven", err)
	}
}

// Check refuses what needs no layout to refuse.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want error
	}{
		{Options{}, ErrArtifactTypeRequired},
		{Options{ArtifactType: "not a type"}, layout.ErrInvalidArgument},
		{Options{ArtifactType: "a/b", Tag: "sha256-" + strings.Repeat("a", 64)}, layout.ErrInvalidTag},
		{Options{ArtifactType: "a/b", Exclude: []string{"[bad"}}, ErrBadPattern},
		{Options{ArtifactType: "a/b", Tag: "v1", Exclude: []string{"*.tmp"}}, nil},
	} {
		if err := Check(nil, c.o); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("Check(%+v) = %v, want %v", c.o, err, c.want)
		}
	}
}
