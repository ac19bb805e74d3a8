//go:build !windows

package extract

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fuzztest"
	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The bits of a fuzz input's mode byte.
const (
	modeImage     = 1 << iota // a container image (umoci rootfs), else an artifact layer titled "t"
	modeGzip                  // the layer blob is gzip-compressed
	modePrefilled             // DIR already holds files, directories and escaping symlinks
	modeOverwrite             // Options.Overwrite
)

// Bounds of one fuzz input.
const (
	fuzzMaxLayer = 1 << 20
	fuzzBudget   = 4 << 20
)

// FuzzExtractLayer extracts arbitrary bytes as a layer tar (see
// checkExtract for the layer's shape and the properties checked).
func FuzzExtractLayer(f *testing.F) {
	for name, s := range extractScripts() {
		b, err := fuzztest.TarScript(s.script)
		if err != nil {
			f.Fatalf("seed %s: %v", name, err)
		}
		fuzztest.Seed(f, name, b, s.mode)
		if name == "good" || name == "image-good" {
			fuzztest.Seed(f, name+"-cut", b[:len(b)-1024-300], s.mode)
			fuzztest.Seed(f, name+"-gzip", b, s.mode|modeGzip)
		}
	}
	fuzztest.Seed(f, "empty", []byte{}, byte(0))
	fuzztest.Seed(f, "garbage", []byte("garbage"), byte(modeGzip))
	f.Fuzz(func(t *testing.T, layer []byte, mode byte) {
		if len(layer) > fuzzMaxLayer {
			return
		}
		checkExtract(t, layer, mode)
	})
}

// FuzzExtractEntries is FuzzExtractLayer on layers built from a
// fuzztest.TarScript, so that mutations of names, link targets and types
// keep the tar well-formed.
func FuzzExtractEntries(f *testing.F) {
	for name, s := range extractScripts() {
		fuzztest.Seed(f, name, s.script, s.mode)
		fuzztest.Seed(f, name+"-prefilled-overwrite", s.script, s.mode|modePrefilled|modeOverwrite)
	}
	for m := byte(modeGzip); m < 16; m += 2 {
		fuzztest.Seed(f, fmt.Sprintf("good-mode-%d", m), extractScripts()["good"].script, m)
	}
	f.Fuzz(func(t *testing.T, script string, mode byte) {
		if len(script) > fuzzMaxLayer {
			return
		}
		b, err := fuzztest.TarScript(script)
		if err != nil {
			return
		}
		checkExtract(t, b, mode)
	})
}

// checkExtract stores raw (gzipped under modeGzip) as the one layer of an
// artifact titled "t" with the unpack annotation — or of a container image
// (modeImage) — and extracts it into DIR (the sandbox's out, prefilled
// under modePrefilled) with the working directory holding a "secret".
// Properties (RELIABILITY I9, E-46, E-47, E-49, F-52): no panic, no hang;
// nothing outside DIR created, changed or hardlinked; no staging left;
// after a failure DIR exactly as before (no partial file under a final
// name) and an error of the integrity or conflict class; after success
// every listed file inside DIR, and — for an artifact — no symlink
// written whose target, resolved inside DIR through any other symlinks,
// leaves DIR.
func checkExtract(t *testing.T, raw []byte, mode byte) {
	s := newSandbox(t)
	t.Cleanup(func() { makeWritable(s.base) }) // before TempDir's removal
	t.Chdir(s.cwd)
	l := newLayout(t)
	m := putFuzzLayer(t, l, raw, mode)
	if mode&modePrefilled != 0 {
		prefill(t, s)
	}
	var before map[string]string
	if _, err := os.Lstat(s.out); err == nil {
		before = tree(t, s.out, true)
	}

	stop := fuzztest.Watchdog("Extract")
	res, err := Extract(context.Background(), l, m, Options{Dir: s.out, MaxBytes: fuzzBudget, Overwrite: mode&modeOverwrite != 0})
	stop()
	s.check(t)
	if err != nil {
		checkExtractError(t, err)
		if before == nil {
			noFinalNames(t, s.out)
		} else {
			diffTrees(t, before, tree(t, s.out, true))
		}
		return
	}
	after := tree(t, s.out, true)
	for p := range after {
		if strings.HasPrefix(path.Base(p), stagePrefix) {
			t.Fatalf("staging %s left in DIR", p)
		}
	}
	r, err := os.OpenRoot(s.out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range res.Files {
		if !filepath.IsLocal(f.Path) {
			t.Fatalf("result lists %q, not a local path", f.Path)
		}
		if _, ok := after[f.Path]; !ok {
			t.Fatalf("result lists %q, which is not in DIR", f.Path)
		}
	}
	if mode&modeImage != 0 {
		return // a rootfs's symlinks are relative to its own root, by design
	}
	written := func(p string) bool { return after[p] != before[p] }
	for p, what := range after {
		if strings.HasPrefix(what, "symlink") && written(p) && escapes(r, p, written) {
			t.Fatalf("extracted symlink %s (%s) resolves outside DIR", p, what)
		}
	}
}

// putFuzzLayer stores the layer and its manifest and returns the latter.
func putFuzzLayer(t *testing.T, l *layout.Layout, raw []byte, mode byte) ocispec.Descriptor {
	blob, mt := raw, ocispec.MediaTypeImageLayer
	if mode&modeGzip != 0 {
		blob, mt = gzipBytes(t, raw), ocispec.MediaTypeImageLayerGzip
	}
	diffID := digest.FromBytes(raw)
	if mode&modeImage == 0 {
		layer := putBlob(t, l, mt, blob, map[string]string{ocispec.AnnotationTitle: "t", annotationUnpack: "true", annotationDiffID: diffID.String()})
		return putManifest(t, l, "", nil, layer)
	}
	img := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}}
	config := putBlob(t, l, ocispec.MediaTypeImageConfig, mustJSON(t, img), nil)
	return putManifest(t, l, "", &config, putBlob(t, l, mt, blob, nil))
}

// prefill gives DIR what E-49 lists: a file, a directory holding a
// symlink to a sentinel, and symlinks to outside directories where the
// layer's names go.
func prefill(t *testing.T, s *sandbox) {
	for _, d := range []string{"t", "etc"} {
		if err := os.MkdirAll(filepath.Join(s.out, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.out, "t", "a"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"t/x":        "../../outside/passwd",
		"t/sub":      "../../outside/dir",
		"etc/passwd": "../../outside/passwd",
		"x":          "../outside",
		"usr":        s.outside,
	} {
		if err := os.Symlink(target, filepath.Join(s.out, link)); err != nil {
			t.Fatal(err)
		}
	}
}

// extractClasses are the sentinels an extraction of a bad layer may fail
// with: the CLI's integrity class (exit 3) and an existing target (exit 4).
var extractClasses = []error{
	ErrUnsafe, ErrExists, layout.ErrCorrupt, cas.ErrDigestMismatch, cas.ErrSizeMismatch, compress.ErrTooLarge,
}

func checkExtractError(t *testing.T, err error) {
	for _, c := range extractClasses {
		if errors.Is(err, c) {
			return
		}
	}
	t.Fatalf("error %q is of no integrity or conflict class", err)
}

// escapes reports whether following the symlink at name (relative to r)
// leads outside r: each component is resolved in turn, symlinks inside r
// are followed (up to 40), an absolute target or a ".." above the root
// escapes. Names that do not exist resolve lexically. A symlink that
// written says the extraction did not write is DIR's own (E-49 prefill):
// where it leads is not the extraction's doing, so the walk stops there.
func escapes(r *os.Root, name string, written func(string) bool) bool {
	var resolved []string
	todo := strings.Split(name, "/")
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return true
			}
			resolved = resolved[:len(resolved)-1]
			continue
		}
		cur := path.Join(append(resolved, c)...)
		fi, err := r.Lstat(cur)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			resolved = append(resolved, c)
			continue
		}
		if !written(cur) {
			return false
		}
		if hops++; hops > 40 {
			return false // a loop: ELOOP for whoever follows it, not an escape
		}
		target, err := r.Readlink(cur)
		if err != nil || path.IsAbs(target) {
			return true
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return false
}

// makeWritable gives every directory under dir its owner's write bit
// back, so the test's temp dir can be removed.
func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}
