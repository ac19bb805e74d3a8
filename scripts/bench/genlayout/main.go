// Command genlayout writes a large synthetic OCI image layout straight in
// the on-disk format, for timing ls, tag, verify and gc at scale: -tags
// artifacts, each a manifest (empty config) with -layers small raw
// layers, all tagged in index.json, plus -orphans unreferenced blobs for
// gc to find. Digests are real; content is deterministic.
//
// Usage:
//
//	genlayout -dir L [-tags 10000] [-layers 4] [-orphans 1000] [-orphans-only]
//
// -orphans-only rewrites just the orphan blobs into an existing layout,
// to restore the state gc removes.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func main() {
	dir := flag.String("dir", "", "layout directory to create")
	tags := flag.Int("tags", 10000, "artifacts, each tagged")
	layers := flag.Int("layers", 4, "layers per artifact")
	orphans := flag.Int("orphans", 1000, "unreferenced blobs")
	orphansOnly := flag.Bool("orphans-only", false, "write only the orphan blobs")
	flag.Parse()
	if *dir == "" || *tags < 0 || *layers < 0 || *orphans < 0 {
		fmt.Fprintln(os.Stderr, "usage: genlayout -dir L [-tags N] [-layers N] [-orphans N] [-orphans-only]")
		os.Exit(2)
	}
	if err := run(*dir, *tags, *layers, *orphans, *orphansOnly); err != nil {
		fmt.Fprintln(os.Stderr, "genlayout:", err)
		os.Exit(1)
	}
}

func run(dir string, tags, layers, orphans int, orphansOnly bool) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	w := newBlobWriter(blobs)
	for i := range orphans {
		w.put([]byte(fmt.Sprintf("orphan blob %d\n", i)))
	}
	if orphansOnly {
		return w.wait()
	}
	empty := w.put([]byte("{}"))
	empty.MediaType = ocispec.MediaTypeEmptyJSON
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for t := range tags {
		m := ocispec.Manifest{
			Versioned:    specs.Versioned{SchemaVersion: 2},
			MediaType:    ocispec.MediaTypeImageManifest,
			ArtifactType: "application/vnd.bench.synthetic.v1",
			Config:       empty,
		}
		for k := range layers {
			d := w.put([]byte(fmt.Sprintf("layer %d of artifact %d\n", k, t)))
			d.MediaType = "application/octet-stream"
			d.Annotations = map[string]string{ocispec.AnnotationTitle: fmt.Sprintf("file-%d.bin", k)}
			m.Layers = append(m.Layers, d)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		d := w.put(b)
		d.MediaType = m.MediaType
		d.ArtifactType = m.ArtifactType
		d.Annotations = map[string]string{ocispec.AnnotationRefName: fmt.Sprintf("t%05d", t)}
		idx.Manifests = append(idx.Manifests, d)
	}
	if err := w.wait(); err != nil {
		return err
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(filepath.Join(dir, ocispec.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644),
		os.WriteFile(filepath.Join(dir, ocispec.ImageIndexFile), b, 0o644))
}

// blobWriter writes blobs on one goroutine per CPU (file creation is the
// cost) and keeps the first error.
type blobWriter struct {
	dir string
	ch  chan []byte
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func newBlobWriter(dir string) *blobWriter {
	w := &blobWriter{dir: dir, ch: make(chan []byte, 1024)}
	for range runtime.NumCPU() * 2 {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for b := range w.ch {
				sum := sha256.Sum256(b)
				p := filepath.Join(w.dir, hex.EncodeToString(sum[:]))
				if err := os.WriteFile(p, b, 0o644); err != nil {
					w.mu.Lock()
					w.err = errors.Join(w.err, fmt.Errorf("write blob %s: %w", p, err))
					w.mu.Unlock()
				}
			}
		}()
	}
	return w
}

// put queues b and returns its descriptor (digest and size).
func (w *blobWriter) put(b []byte) ocispec.Descriptor {
	w.ch <- b
	return ocispec.Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// wait flushes the queue and returns the first write error.
func (w *blobWriter) wait() error {
	close(w.ch)
	w.wg.Wait()
	return w.err
}
