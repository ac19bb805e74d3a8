package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// chunkedRegistry takes chunked uploads as the distribution spec has them:
// the Range it answers is inclusive ("0-LAST"), a chunk that does not start
// where the session ends gets 416, and an empty session says "0-0" as
// distribution's does. With keepOnFail >= 0 its first PATCH keeps that
// many bytes of the chunk and answers 500 (a link that died mid-chunk).
type chunkedRegistry struct {
	mu         sync.Mutex
	sessions   map[string][]byte
	n          int
	stored     map[string][]byte
	keepOnFail int
	patches    []string // Content-Range of each PATCH
	refused    int      // 416s answered
}

func newChunkedRegistry(keepOnFail int) *chunkedRegistry {
	return &chunkedRegistry{sessions: map[string][]byte{}, stored: map[string][]byte{}, keepOnFail: keepOnFail}
}

// session opens an upload session holding b and returns its path.
func (c *chunkedRegistry) session(b []byte) string {
	c.n++
	id := fmt.Sprintf("u%d", c.n)
	c.sessions[id] = append([]byte(nil), b...)
	return "/v2/m/blobs/uploads/" + id
}

func (c *chunkedRegistry) progress(w http.ResponseWriter, id string, code int) {
	w.Header().Set("Location", "/v2/m/blobs/uploads/"+id)
	last := max(len(c.sessions[id])-1, 0)
	w.Header().Set("Range", fmt.Sprintf("0-%d", last))
	w.WriteHeader(code)
}

func (c *chunkedRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, isUpload := strings.CutPrefix(r.URL.Path, "/v2/m/blobs/uploads/")
	held, known := c.sessions[id]
	switch {
	case r.Method == http.MethodHead:
		http.NotFound(w, r)
	case r.Method == http.MethodPost && isUpload && id == "":
		c.progress(w, strings.TrimPrefix(c.session(nil), "/v2/m/blobs/uploads/"), http.StatusAccepted)
	case !isUpload || !known:
		http.NotFound(w, r)
	case r.Method == http.MethodGet:
		c.progress(w, id, http.StatusNoContent)
	case r.Method == http.MethodPatch:
		cr := r.Header.Get("Content-Range")
		c.patches = append(c.patches, cr)
		var start, end int
		if _, err := fmt.Sscanf(cr, "%d-%d", &start, &end); err != nil || start != len(held) {
			c.refused++
			c.progress(w, id, http.StatusRequestedRangeNotSatisfiable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if c.keepOnFail >= 0 {
			c.sessions[id] = append(held, b[:c.keepOnFail]...)
			c.keepOnFail = -1
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		c.sessions[id] = append(held, b...)
		c.progress(w, id, http.StatusAccepted)
	case r.Method == http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		all := append(held, b...)
		d := r.URL.Query().Get("digest")
		if digest.FromBytes(all).String() != d {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.stored[d] = all
		delete(c.sessions, id)
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// statusFixture is a layout holding one 200 KB blob and a Remote on reg.
func statusFixture(t *testing.T, reg http.Handler) (*layout.Layout, *Remote, []byte, ocispec.Descriptor, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	l, err := layout.Open(t.TempDir(), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	data := make([]byte, 200_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
	if _, err := l.Blobs().Put(context.Background(), bytes.NewReader(data), desc); err != nil {
		t.Fatal(err)
	}
	dst, err := NewRemote(strings.TrimPrefix(srv.URL, "http://")+"/m", ClientOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	return l, dst, data, desc, srv
}

func pushOne(t *testing.T, l *layout.Layout, dst *Remote, desc ocispec.Descriptor) *Result {
	t.Helper()
	res := &Result{}
	p := &pusher{l: l, dst: dst, res: res, up: &uploader{l: l, dst: dst, chunk: 64 << 10, resume: true}}
	if err := p.blob(context.Background(), desc); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestUploadStatusOneByte: a chunk fails (500; the HTTP client's own retry
// of it then meets 416 when the registry kept some of it) and the upload
// asks where the session stands. "Range: 0-0" holds one byte by the spec
// (or none, from distribution): the upload opens a new session instead of
// sending a chunk at 0 into a session that holds the byte, which meets 416
// on every retry and stalled the upload. "0-4" still resumes at 5.
func TestUploadStatusOneByte(t *testing.T) {
	for _, tc := range []struct {
		keep     int    // bytes the registry keeps of the first (failing) chunk
		sessions int    // upload sessions opened
		resumeAt string // a PATCH's Content-Range starts so
	}{
		{keep: 1, sessions: 2, resumeAt: "0-"}, // one byte held: a new session
		{keep: 0, sessions: 1, resumeAt: "0-"}, // nothing held: the client's retry goes through
		{keep: 5, sessions: 1, resumeAt: "5-"}, // "0-4": resumed at 5
	} {
		t.Run(fmt.Sprintf("keep%d", tc.keep), func(t *testing.T) {
			reg := newChunkedRegistry(tc.keep)
			l, dst, data, desc, _ := statusFixture(t, reg)
			pushOne(t, l, dst, desc)
			if !bytes.Equal(reg.stored[desc.Digest.String()], data) {
				t.Fatal("the registry does not hold the blob")
			}
			if reg.n != tc.sessions || reg.refused > 1 {
				t.Errorf("%d sessions, %d chunks refused with 416 (%q): want %d sessions, at most the retry of the failed chunk refused", reg.n, reg.refused, reg.patches, tc.sessions)
			}
			found := false
			for _, p := range reg.patches[1:] {
				found = found || strings.HasPrefix(p, tc.resumeAt)
			}
			if !found {
				t.Errorf("PATCHes %q: none after the first starts %q", reg.patches, tc.resumeAt)
			}
		})
	}
}

// TestUploadResumeOneByteSession: the session an earlier run left holds
// the blob's first byte (its status: "0-0"); the re-run starts a new
// session, sends everything, and forgets the state it kept.
func TestUploadResumeOneByteSession(t *testing.T) {
	reg := newChunkedRegistry(-1)
	l, dst, data, desc, srv := statusFixture(t, reg)
	h := sha256.New()
	h.Write(data[:1])
	hs, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	name := uploadStateName(dst, desc.Digest)
	if err := saveState(l, name, uploadState{
		Registry: dst.Ref.Registry, Repository: dst.Ref.Repository, Digest: desc.Digest, Size: desc.Size,
		Location: srv.URL + reg.session(data[:1]), Offset: 1, HashState: hs,
	}); err != nil {
		t.Fatal(err)
	}
	res := pushOne(t, l, dst, desc)
	if !bytes.Equal(reg.stored[desc.Digest.String()], data) {
		t.Fatal("the registry does not hold the blob")
	}
	if reg.refused != 0 || res.Resumed != 0 {
		t.Errorf("%d chunks refused (%q), %d bytes resumed: want a new session from 0", reg.refused, reg.patches, res.Resumed)
	}
	if _, err := l.ReadState(name, maxStateBytes); err == nil {
		t.Error("the upload state outlived the upload")
	}
}
