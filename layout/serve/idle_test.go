package serve_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/serve"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestServeStalledReader: a client that asks for a large blob and then
// stops reading holds its request slot (and the layout's shared lock,
// which gc waits for) only until a write has waited WriteIdle: with one
// slot, the next client is still served. A client that keeps reading gets
// the whole blob, and a range of it, byte for byte.
func TestServeStalledReader(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "big")
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB: more than the sockets buffer
	bd := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(big), Size: int64(len(big))}
	if _, err := l.Blobs().Put(ctx, bytes.NewReader(big), bd); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{bd}}
	m.SchemaVersion = 2
	md, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Tag(ctx, "v1", md, layout.ConflictFail); err != nil {
		t.Fatal(err)
	}
	l.Close()
	srv := start(t, serve.Options{MaxInFlight: 1, QueueTimeout: 10 * time.Second, WriteIdle: 300 * time.Millisecond}, serve.Repo{Name: "big", Dir: dir})

	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v2/big/blobs/%s HTTP/1.1\r\nHost: x\r\n\r\n", bd.Digest)
	time.Sleep(200 * time.Millisecond) // its handler holds the one slot, blocked writing

	resp, _ := do(t, http.MethodGet, srv.URL+"/v2/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with a client that stopped reading: %s, want 200 (the stalled request must give up its slot)", resp.Status)
	}
	_, got := do(t, http.MethodGet, srv.URL+"/v2/big/blobs/"+bd.Digest.String())
	if !bytes.Equal(got, big) {
		t.Errorf("a reading client got %d bytes, want the blob's %d", len(got), len(big))
	}
	_, got = do(t, http.MethodGet, srv.URL+"/v2/big/blobs/"+bd.Digest.String(), "Range", "bytes=5000000-14999999")
	if !bytes.Equal(got, big[5000000:15000000]) {
		t.Errorf("a range: got %d bytes, want 10000000", len(got))
	}
}
