package layout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A lock file replaced by a symlink (a layout unpacked with plain tar, a
// shared stick) is refused: locking never creates or opens a file outside
// the layout, and gc leaves such a staging directory alone.
func TestLockFileSymlinkRefused(t *testing.T) {
	for _, lock := range []string{"gc.lock", "index.lock", "tmp/999-abc/.lock"} {
		t.Run(lock, func(t *testing.T) {
			dir, a := goodLayout(t)
			outside := filepath.Join(t.TempDir(), "pwned")
			p := filepath.Join(dir, ".oci-pack", lock)
			os.Remove(p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, p); err != nil {
				t.Fatal(err)
			}
			before := readFile(t, filepath.Join(dir, "index.json"))
			var err error
			switch lock {
			case "gc.lock":
				_, err = open(t, dir, layout.ReadWrite)
			case "index.lock":
				l := openRW(t, dir)
				_, err = l.Tag(ctx, "v2", a.manifest, layout.ConflictFail)
			default:
				l, oerr := open(t, dir, layout.Exclusive)
				if oerr != nil {
					t.Fatal(oerr)
				}
				res, gerr := l.GC(ctx, false)
				if gerr != nil {
					t.Fatal(gerr)
				}
				if len(res.Staging) != 0 {
					t.Errorf("gc removed staging %v whose lock is a symlink", res.Staging)
				}
				if _, serr := os.Lstat(p); serr != nil {
					t.Errorf("gc removed the staging lock symlink: %v", serr)
				}
			}
			if lock != "tmp/999-abc/.lock" && (err == nil || !strings.Contains(err.Error(), "not a regular file")) {
				t.Errorf("error = %v, want one saying the lock is not a regular file", err)
			}
			if _, serr := os.Lstat(outside); serr == nil {
				t.Errorf("%s was created outside the layout through the %s symlink", outside, lock)
			}
			if after := readFile(t, filepath.Join(dir, "index.json")); !bytes.Equal(before, after) {
				t.Errorf("index.json changed")
			}
		})
	}
}

// An index.json that is strict JSON but not a valid index — no
// "manifests", null, or a key in the wrong case that Go would match
// anyway — is an error for every reader, and gc deletes nothing (B-20,
// the same verdict as for index.json inside an archive).
func TestIndexNotSchemaValid(t *testing.T) {
	for name, body := range map[string]string{
		"no manifests":   `{"schemaVersion":2}`,
		"null manifests": `{"schemaVersion":2,"manifests":null}`,
		"Manifests":      `{"schemaVersion":2,"Manifests":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir, a := goodLayout(t)
			if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := layout.ParseIndex([]byte(body)); err == nil {
				t.Errorf("ParseIndex accepted %s", body)
			}
			l, err := open(t, dir, layout.Exclusive)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Index(ctx); !errors.Is(err, layout.ErrCorrupt) {
				t.Errorf("Index: %v, want ErrCorrupt", err)
			}
			if res, err := l.GC(ctx, false); err == nil {
				t.Errorf("gc succeeded on %s, deleting %d blobs", body, len(res.Blobs))
			}
			for _, d := range append(a.layers, a.manifest) {
				if _, err := os.Stat(blobFile(dir, d.Digest)); err != nil {
					t.Errorf("blob %s gone after gc: %v", d.Digest, err)
				}
			}
			if _, err := l.Tag(ctx, "v2", a.manifest, layout.ConflictFail); err == nil {
				t.Errorf("tag succeeded on an invalid index.json")
			}
			if got := readFile(t, filepath.Join(dir, "index.json")); string(got) != body {
				t.Errorf("index.json rewritten: %s", got)
			}
		})
	}
}

// A wait for a busy layout lock ends when the context is cancelled (a
// SIGINT must not wait out --lock-timeout).
func TestLockWaitCancelled(t *testing.T) {
	dir, _ := goodLayout(t)
	if _, err := open(t, dir, layout.Exclusive); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, LockTimeout: time.Minute, Context: c})
	if err == nil {
		l.Close()
		t.Fatal("opened a layout whose lock another open holds exclusively")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Errorf("returned after %s, not when the context was cancelled", waited)
	}
}

// A blob with a second hard link (here: to a file outside the layout)
// verifies, with a warning naming it (B-23).
func TestVerifyWarnsHardLinkedBlob(t *testing.T) {
	dir, a := goodLayout(t)
	if err := os.Link(blobFile(dir, a.layers[0].Digest), filepath.Join(t.TempDir(), "outside")); err != nil {
		t.Fatalf("make a second hard link: %v", err)
	}
	l, err := open(t, dir, layout.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(ctx, layout.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems: %v", rep.Problems)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], a.layers[0].Digest.String()) || !strings.Contains(rep.Warnings[0], "2 hard links") {
		t.Errorf("warnings = %q, want one naming %s with 2 hard links", rep.Warnings, a.layers[0].Digest)
	}
}

// A referrer that fails the image-spec schema (here an artifactType with a
// control character) is not copied: copy fails naming it, rather than
// leave a destination verify rejects.
func TestCopyRefusesSchemaInvalidReferrer(t *testing.T) {
	dir, a := goodLayout(t)
	l := openRW(t, dir)
	cfg := put(t, l, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/x\x1b[2J", Config: cfg, Layers: []ocispec.Descriptor{cfg}, Subject: &a.manifest}
	m.SchemaVersion = 2
	ref := putJSON(t, l, ocispec.MediaTypeImageManifest, m)
	if err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error { return e.AddUntagged(ref) }); err != nil {
		t.Fatal(err)
	}
	dst := openRW(t, filepath.Join(t.TempDir(), "dst"))
	_, err := layout.CopyGraph(ctx, l, dst, a.manifest, layout.CopyOptions{Referrers: true, Jobs: 2})
	if !errors.Is(err, layout.ErrCorrupt) || !strings.Contains(err.Error(), ref.Digest.String()) {
		t.Errorf("CopyGraph: %v, want ErrCorrupt naming %s", err, ref.Digest)
	}
	if _, err := os.Stat(blobFile(dst.Dir(), ref.Digest)); err == nil {
		t.Errorf("the invalid referrer was copied")
	}
}
