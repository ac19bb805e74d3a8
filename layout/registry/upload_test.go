package registry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// monolithicRegistry takes uploads only whole (POST, then PUT with the
// body); PATCH gets 405, as from a registry without chunked uploads.
type monolithicRegistry struct {
	mu     sync.Mutex
	stored map[string][]byte
}

func (m *monolithicRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/"):
		http.NotFound(w, r)
	case r.Method == http.MethodPost:
		w.Header().Set("Location", "/v2/m/blobs/uploads/u1")
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPatch:
		w.WriteHeader(http.StatusMethodNotAllowed)
	case r.Method == http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		d := r.URL.Query().Get("digest")
		if digest.FromBytes(b).String() != d {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		m.stored[d] = b
		m.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	default:
		http.NotFound(w, r)
	}
}

func TestUploadWholeWhenChunksRefused(t *testing.T) {
	reg := &monolithicRegistry{stored: map[string][]byte{}}
	srv := httptest.NewServer(reg)
	defer srv.Close()
	l, err := layout.Open(t.TempDir(), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := bytes.Repeat([]byte("abc"), 1<<20)
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
	if _, err := l.Blobs().Put(context.Background(), bytes.NewReader(data), desc); err != nil {
		t.Fatal(err)
	}
	dst, err := NewRemote(strings.TrimPrefix(srv.URL, "http://")+"/m", ClientOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	p := &pusher{l: l, dst: dst, res: &Result{}, up: &uploader{l: l, dst: dst, chunk: 1 << 20, resume: true, notify: func(s string) { notes = append(notes, s) }}}
	if err := p.blob(context.Background(), desc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reg.stored[desc.Digest.String()], data) {
		t.Fatal("the registry did not get the blob")
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "refuses chunked uploads") {
		t.Fatalf("notes: %q", notes)
	}
}
