package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// hostileRegistry serves repo "m" with tag v1 (an artifact of one layer)
// and misbehaves as mode says.
type hostileRegistry struct {
	mode     string
	manifest []byte
	layer    []byte
	referrer []byte // a manifest whose subject is another digest
	stalled  atomic.Int32
}

func newHostileRegistry(mode string) *hostileRegistry {
	layer := bytes.Repeat([]byte("weights "), 32<<10)
	empty := digest.FromString("{}")
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/octet-stream","digest":"%s","size":%d}]}`, empty, digest.FromBytes(layer), len(layer))
	elsewhere := digest.FromString("another artifact")
	ref := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test.sig",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2}],`+
		`"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":123}}`, empty, empty, elsewhere)
	return &hostileRegistry{mode: mode, manifest: []byte(m), layer: layer, referrer: []byte(ref)}
}

func (f *hostileRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	doc := func(mt string, b []byte) {
		w.Header().Set("Content-Type", mt)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(b).String())
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	}
	sig := "/v2/m/manifests/" + layout.LegacySignatureTag(digest.FromBytes(f.manifest))
	switch {
	case p == sig && f.mode == "sig-forbidden":
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
	case (p == sig || p == "/v2/m/manifests/"+digest.FromBytes(f.bogusSig()).String()) && f.mode == "sig-bogus":
		doc(ocispec.MediaTypeImageManifest, f.bogusSig())
	case p == "/v2/":
	case p == "/v2/m/manifests/v1", p == "/v2/m/manifests/"+digest.FromBytes(f.manifest).String():
		doc(ocispec.MediaTypeImageManifest, f.manifest)
	case p == "/v2/m/manifests/"+digest.FromBytes(f.referrer).String():
		doc(ocispec.MediaTypeImageManifest, f.referrer)
	case p == "/v2/m/referrers/"+digest.FromBytes(f.manifest).String() && f.mode == "referrer-elsewhere":
		idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
			`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"artifactType":"application/vnd.test.sig"}]}`,
			digest.FromBytes(f.referrer), len(f.referrer))
		doc(ocispec.MediaTypeImageIndex, []byte(idx))
	case strings.HasPrefix(p, "/v2/m/referrers/") && f.mode == "endless-referrers":
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, p, n+1))
		doc(ocispec.MediaTypeImageIndex, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	case strings.HasPrefix(p, "/v2/m/referrers/"):
		doc(ocispec.MediaTypeImageIndex, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	case p == "/v2/m/blobs/"+digest.FromString("{}").String():
		w.Write([]byte("{}"))
	case p == "/v2/m/blobs/"+digest.FromBytes(f.layer).String():
		w.Header().Set("Content-Length", strconv.Itoa(len(f.layer)))
		if f.mode == "stall" && f.stalled.Add(1) == 1 {
			w.Write(f.layer[:len(f.layer)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // sends nothing more until the client gives up
			return
		}
		w.Write(f.layer)
	default:
		http.NotFound(w, r)
	}
}

// bogusSig is a manifest served under the pulled artifact's cosign
// signature tag that is no simple-signing signature (its layer is the
// empty JSON).
func (f *hostileRegistry) bogusSig() []byte {
	empty := digest.FromString("{}")
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test.bogus",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2}]}`, empty, empty))
}

func pullFrom(t *testing.T, f *hostileRegistry, o Options) (*layout.Layout, error) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	l, err := layout.Open(filepath.Join(t.TempDir(), "L"), layout.Options{Create: true, Mode: layout.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	src, err := NewRemote(strings.TrimPrefix(srv.URL, "http://")+"/m:v1", ClientOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root, err := src.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Pull(ctx, src, root, l, o)
	if ctx.Err() != nil {
		t.Fatalf("the pull does not end (%v)", err)
	}
	return l, err
}

// TestPullStalledBody: a registry that stops sending a blob mid-body never
// hangs the pull: the read times out (idleTimeout), the transfer is
// retried from where it stopped, and the blob arrives verified.
func TestPullStalledBody(t *testing.T) {
	defer func(d time.Duration) { idleTimeout = d }(idleTimeout)
	idleTimeout = 500 * time.Millisecond
	f := newHostileRegistry("stall")
	l, err := pullFrom(t, f, Options{Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Blobs().Has(context.Background(), ocispec.Descriptor{Digest: digest.FromBytes(f.layer), Size: int64(len(f.layer))}); !ok || err != nil {
		t.Errorf("the layer is not stored after the retry: %v", err)
	}
}

// TestPullReferrerElsewhere: a registry that lists, as a referrer of the
// pulled artifact, a manifest whose subject is another digest is lying:
// the pull fails naming both, and nothing is tagged or listed.
func TestPullReferrerElsewhere(t *testing.T) {
	f := newHostileRegistry("referrer-elsewhere")
	l, err := pullFrom(t, f, Options{Tag: "v1", Referrers: true})
	if !errors.Is(err, layout.ErrCorrupt) || !strings.Contains(err.Error(), digest.FromBytes(f.referrer).String()) {
		t.Fatalf("got %v, want ErrCorrupt naming the referrer", err)
	}
	idx, err := l.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 0 {
		t.Errorf("index.json lists %d entries after a failed pull", len(idx.Manifests))
	}
}

// TestPullEndlessReferrers: a registry that answers every page of a
// referrers list with a link to one more page does not keep the pull
// going forever: it fails (ErrProtocol) after maxReferrerPages pages, and
// nothing is tagged.
func TestPullEndlessReferrers(t *testing.T) {
	l, err := pullFrom(t, newHostileRegistry("endless-referrers"), Options{Tag: "v1", Referrers: true})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "pages") {
		t.Fatalf("got %v, want ErrProtocol about the pages", err)
	}
	idx, err := l.Index(context.Background())
	if err != nil || len(idx.Manifests) != 0 {
		t.Errorf("index.json after a failed pull: %v entries, %v", len(idx.Manifests), err)
	}
}

// TestPullLegacySignatureTag: the lookup of cosign's sha256-<hex>.sig tag
// is optional — a registry that refuses it (403) gets a notice and the
// pull goes on — but what it finds is checked: a manifest there that is
// no simple-signing signature fails the pull, and nothing is tagged.
func TestPullLegacySignatureTag(t *testing.T) {
	var notes []string
	l, err := pullFrom(t, newHostileRegistry("sig-forbidden"), Options{Tag: "v1", Referrers: true, Notify: func(m string) { notes = append(notes, m) }})
	if err != nil {
		t.Fatalf("a registry refusing the .sig lookup failed the pull: %v", err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], ".sig") || !strings.Contains(notes[0], "pulled without it") {
		t.Errorf("notices %q: want one naming the .sig tag", notes)
	}
	if _, err := l.Resolve(context.Background(), layout.Ref{Tag: "v1"}); err != nil {
		t.Errorf("v1 not tagged: %v", err)
	}

	l, err = pullFrom(t, newHostileRegistry("sig-bogus"), Options{Tag: "v1", Referrers: true})
	if err == nil || !strings.Contains(err.Error(), "not a cosign signature") {
		t.Fatalf("got %v, want the bogus .sig manifest refused", err)
	}
	idx, err := l.Index(context.Background())
	if err != nil || len(idx.Manifests) != 0 {
		t.Errorf("index.json after a refused pull: %d entries, %v", len(idx.Manifests), err)
	}
}
