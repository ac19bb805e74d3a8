package pack_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack"
)

// tool finds an interop tool (layouttest.Tool: skipped when missing,
// failed under CI=true).
func tool(t *testing.T, name string) string { return layouttest.Tool(t, name) }

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestSkopeoCopy: skopeo copies a packed artifact between layouts with
// the manifest digest unchanged, and oci-pack verifies the copy.
func TestSkopeoCopy(t *testing.T) {
	skopeo := tool(t, "skopeo")
	_, in := goldenInputs(t)
	base := t.TempDir()
	L, L2 := filepath.Join(base, "L"), filepath.Join(base, "L2")
	res := packInto(t, L, in, pack.Options{ArtifactType: goldenArtifactType, Jobs: 2})
	run(t, skopeo, "--insecure-policy", "copy", "oci:"+L+":v1", "oci:"+L2+":v1")
	l, err := layout.Open(L2, layout.Options{Mode: layout.ReadOnly})
	if err != nil {
		t.Fatalf("oci-pack cannot open skopeo's layout: %v", err)
	}
	defer l.Close()
	d, err := l.Resolve(ctx, layout.Ref{Layout: L2, Tag: "v1"})
	if err != nil || d.Digest != res.Manifest.Digest {
		t.Fatalf("skopeo's copy has v1 = %s (%v), want %s", d.Digest, err, res.Manifest.Digest)
	}
	if rep, err := l.Verify(ctx, layout.VerifyOptions{}); err != nil || len(rep.Problems) != 0 || rep.Blobs != 2+len(in) {
		t.Fatalf("verify of skopeo's copy: %+v, %v", rep, err)
	}
}

// TestOrasPull: oras pulls a packed artifact back to files byte-identical
// to the originals, the directory layer unpacked (DESIGN 3: gzip with
// oras's unpack annotations by default).
func TestOrasPull(t *testing.T) {
	oras := tool(t, "oras")
	src, in := goldenInputs(t)
	base := t.TempDir()
	L, out := filepath.Join(base, "L"), filepath.Join(base, "out")
	packInto(t, L, in, pack.Options{ArtifactType: goldenArtifactType, Jobs: 2})
	run(t, oras, "pull", "--oci-layout", L+":v1", "-o", out)
	if diff := compareTrees(t, src, out); diff != "" {
		t.Fatalf("oras pull did not reproduce the inputs:\n%s", diff)
	}
}

// compareTrees describes how tree b differs from tree a: entries, types,
// permission bits, file bytes and symlink targets.
func compareTrees(t *testing.T, a, b string) string {
	t.Helper()
	describe := func(root string) map[string]string {
		out := map[string]string{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if rel == "." {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			desc := fi.Mode().Type().String()
			switch {
			case fi.Mode().IsRegular():
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				desc += " " + fi.Mode().Perm().String() + " " + string(b)
			case fi.Mode()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				desc += " -> " + target
			}
			out[rel] = desc
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	da, db := describe(a), describe(b)
	var diff strings.Builder
	for p, want := range da {
		if got, ok := db[p]; !ok {
			diff.WriteString("missing " + p + "\n")
		} else if got != want {
			diff.WriteString("differs " + p + ": " + trim(got) + " vs " + trim(want) + "\n")
		}
	}
	for p := range db {
		if _, ok := da[p]; !ok {
			diff.WriteString("extra " + p + "\n")
		}
	}
	return diff.String()
}

func trim(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
