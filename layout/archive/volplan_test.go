package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
)

// TestSplitDecidedFromPlan (issue 12 class 9): a split size that would
// need more than MaxVolumes volumes is refused from the plan, before any
// file is created, with the numbers and the smallest split size that
// fits; that size itself works.
func TestSplitDecidedFromPlan(t *testing.T) {
	cases := []struct {
		name  string
		sizes map[string]int
		alg   compress.Algorithm
		split int64
	}{
		{"uncompressed, 1 byte volumes", map[string]int{"a.bin": 4096, "b.bin": 3000}, compress.None, 1},
		{"uncompressed, just too small", map[string]int{"a.bin": 4096, "b.bin": 3000}, compress.None, 0}, // 0: the smallest that fits, minus one
		{"gzip, whatever it compresses to", map[string]int{"w.bin": 3 << 20}, compress.Gzip, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			l := openLayout(t, src)
			packTag(t, l, "v1", 7, c.sizes, nil)
			l.Close()
			ro := openLayout(t, src)
			defer ro.Close()
			out := t.TempDir()
			o := ExportOptions{Compression: c.alg}
			split := c.split
			if split == 0 {
				split = smallestSplit(t, ro, out, o) - 1
			}
			_, _, err := ExportFile(ctx, ro, filepath.Join(out, "x.tar"), split, o)
			if !errors.Is(err, ErrTooManyVolumes) || !errors.Is(err, layout.ErrInvalidArgument) {
				t.Fatalf("export with %d-byte volumes = %v, want ErrTooManyVolumes (a usage error)", split, err)
			}
			for _, s := range []string{"at least", strconv.FormatInt(split, 10) + " bytes", "smallest split size that fits is"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the refusal does not say %q: %v", s, err)
				}
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("the refused export created %d files (%s…)", len(ents), ents[0].Name())
			}
		})
	}
}

// smallestSplit exports once with the split size the refusal of 1-byte
// volumes names, checks it works, and returns it.
func smallestSplit(t *testing.T, l *layout.Layout, out string, o ExportOptions) int64 {
	t.Helper()
	_, _, err := ExportFile(ctx, l, filepath.Join(out, "probe.tar"), 1, o)
	msg := err.Error()
	i := strings.Index(msg, "fits is ")
	if i < 0 {
		t.Fatalf("no smallest split size in %v", err)
	}
	n, perr := strconv.ParseInt(strings.Fields(msg[i+len("fits is "):])[0], 10, 64)
	if perr != nil {
		t.Fatal(perr)
	}
	dir := t.TempDir()
	_, vols, err := ExportFile(ctx, l, filepath.Join(dir, "ok.tar"), n, o)
	if err != nil || len(vols) > MaxVolumes {
		t.Fatalf("export with the smallest split size that fits, %d: %d volumes, %v", n, len(vols), err)
	}
	return n
}

// TestSidecarFitsItsReader (I14): the largest sidecar an export can write
// — MaxVolumes lines, each a digest and the longest base name a file
// system allows, every byte escaped — is within what readSidecar reads.
func TestSidecarFitsItsReader(t *testing.T) {
	name := strings.Repeat("\n", 255) // escaped to twice its length
	vols := make([]Volume, MaxVolumes)
	for i := range vols {
		vols[i] = Volume{Path: filepath.Join("/media/usb", name), Digest: "sha256:" + digestHex}
	}
	if n := len(formatSidecar(vols)); n > maxSidecar {
		t.Fatalf("a sidecar of %d volumes can be %d bytes, over the %d readSidecar reads", MaxVolumes, n, maxSidecar)
	}
}

const digestHex = "0000000000000000000000000000000000000000000000000000000000000000"
