package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/serve"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/bcrypt"
)

var ctx = context.Background()

// fixture is a layout with tags v1, v2, a referrer of v1 (an SBOM), and a
// blob stored but reached by nothing.
type fixture struct {
	dir                  string
	v1, v2, sbom, orphan ocispec.Descriptor
	layer                []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: filepath.Join(t.TempDir(), "models")}
	l, err := layout.Open(f.dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	put := func(b []byte) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(len(b))}
		if _, err := l.Blobs().Put(ctx, bytes.NewReader(b), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if _, err := l.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	manifest := func(at string, subject *ocispec.Descriptor, layers ...ocispec.Descriptor) ocispec.Descriptor {
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: at, Config: ocispec.DescriptorEmptyJSON, Layers: layers, Subject: subject}
		m.SchemaVersion = 2
		d, err := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	f.layer = bytes.Repeat([]byte("0123456789"), 1000)
	f.v1 = manifest("application/vnd.test.model", nil, put(f.layer))
	f.v2 = manifest("application/vnd.test.model", nil, put([]byte("two")))
	f.sbom = manifest("application/spdx+json", &f.v1, put([]byte(`{"sbom":true}`)))
	f.orphan = put([]byte("nobody reaches me"))
	if _, err := l.TagAll(ctx, f.v1, layout.ConflictFail, "v1", "latest"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Tag(ctx, "v2", f.v2, layout.ConflictFail); err != nil {
		t.Fatal(err)
	}
	if err := l.AddReferrers(ctx, f.sbom); err != nil {
		t.Fatal(err)
	}
	return f
}

func start(t *testing.T, o serve.Options, repos ...serve.Repo) *httptest.Server {
	t.Helper()
	s, err := serve.New(repos, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func errorCode(t *testing.T, b []byte) string {
	var e struct {
		Errors []struct{ Code string }
	}
	if json.Unmarshal(b, &e) != nil || len(e.Errors) == 0 {
		t.Fatalf("not a distribution error body: %q", b)
	}
	return e.Errors[0].Code
}

func TestServeManifestsAndBlobs(t *testing.T) {
	f := newFixture(t)
	srv := start(t, serve.Options{}, serve.Repo{Name: "team/models", Dir: f.dir})
	base := srv.URL + "/v2/team/models"

	if resp, _ := do(t, "GET", srv.URL+"/v2/"); resp.StatusCode != 200 || resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("/v2/: %d %v", resp.StatusCode, resp.Header)
	}
	for _, ref := range []string{"v1", f.v1.Digest.String()} {
		for _, m := range []string{"GET", "HEAD"} {
			resp, b := do(t, m, base+"/manifests/"+ref)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ocispec.MediaTypeImageManifest ||
				resp.Header.Get("Docker-Content-Digest") != f.v1.Digest.String() || resp.ContentLength != f.v1.Size {
				t.Fatalf("%s manifests/%s: %d %v", m, ref, resp.StatusCode, resp.Header)
			}
			if m == "GET" && digest.FromBytes(b) != f.v1.Digest {
				t.Fatalf("GET manifests/%s: body is not the manifest", ref)
			}
		}
	}
	if resp, b := do(t, "GET", base+"/manifests/nope"); resp.StatusCode != 404 || errorCode(t, b) != "MANIFEST_UNKNOWN" {
		t.Fatalf("unknown tag: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, "GET", base+"/manifests/sha256:totallywrong"); resp.StatusCode != 400 || errorCode(t, b) != "DIGEST_INVALID" {
		t.Fatalf("bad digest: %d %s", resp.StatusCode, b)
	}

	layer := base + "/blobs/" + digest.FromBytes(f.layer).String()
	if resp, b := do(t, "GET", layer); resp.StatusCode != 200 || !bytes.Equal(b, f.layer) || resp.Header.Get("Docker-Content-Digest") != digest.FromBytes(f.layer).String() {
		t.Fatalf("GET blob: %d", resp.StatusCode)
	}
	if resp, b := do(t, "GET", layer, "Range", "bytes=100-199"); resp.StatusCode != 206 || !bytes.Equal(b, f.layer[100:200]) || resp.Header.Get("Content-Range") != "bytes 100-199/10000" {
		t.Fatalf("Range: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	if resp, _ := do(t, "GET", layer, "Range", "bytes=10000-"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("Range past the end: %d, want 416", resp.StatusCode)
	}
	if resp, b := do(t, "GET", base+"/blobs/"+f.orphan.Digest.String()); resp.StatusCode != 404 || errorCode(t, b) != "BLOB_UNKNOWN" {
		t.Fatalf("a blob index.json does not reach was served: %d", resp.StatusCode)
	}
	if resp, b := do(t, "GET", srv.URL+"/v2/other/blobs/"+f.orphan.Digest.String()); resp.StatusCode != 404 || errorCode(t, b) != "NAME_UNKNOWN" {
		t.Fatalf("unknown repository: %d %s", resp.StatusCode, b)
	}
}

func TestServeRefusesWrites(t *testing.T) {
	f := newFixture(t)
	srv := start(t, serve.Options{}, serve.Repo{Name: "models", Dir: f.dir})
	before, _ := os.ReadFile(filepath.Join(f.dir, "index.json"))
	for _, c := range [][2]string{
		{"POST", "/v2/models/blobs/uploads/"},
		{"PUT", "/v2/models/manifests/v9"},
		{"DELETE", "/v2/models/manifests/" + f.v1.Digest.String()},
		{"DELETE", "/v2/models/blobs/" + f.v1.Digest.String()},
		{"PATCH", "/v2/models/blobs/uploads/x"},
	} {
		resp, b := do(t, c[0], srv.URL+c[1])
		if resp.StatusCode != http.StatusMethodNotAllowed || errorCode(t, b) != "UNSUPPORTED" {
			t.Errorf("%s %s: %d %s, want 405 UNSUPPORTED", c[0], c[1], resp.StatusCode, b)
		}
	}
	after, _ := os.ReadFile(filepath.Join(f.dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Error("index.json changed")
	}
}

func TestServeTagsAndReferrers(t *testing.T) {
	f := newFixture(t)
	srv := start(t, serve.Options{}, serve.Repo{Name: "models", Dir: f.dir})
	resp, b := do(t, "GET", srv.URL+"/v2/models/tags/list?n=2")
	var tl struct{ Tags []string }
	json.Unmarshal(b, &tl)
	if strings.Join(tl.Tags, ",") != "latest,sha256-"+f.v1.Digest.Encoded() || !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("first page: %v, Link %q", tl.Tags, resp.Header.Get("Link"))
	}
	_, b = do(t, "GET", srv.URL+"/v2/models/tags/list?n=2&last=sha256-"+f.v1.Digest.Encoded())
	json.Unmarshal(b, &tl)
	if strings.Join(tl.Tags, ",") != "v1,v2" {
		t.Fatalf("second page: %v", tl.Tags)
	}

	var idx ocispec.Index
	resp, b = do(t, "GET", srv.URL+"/v2/models/referrers/"+f.v1.Digest.String())
	json.Unmarshal(b, &idx)
	if resp.Header.Get("Content-Type") != ocispec.MediaTypeImageIndex || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != f.sbom.Digest || idx.Manifests[0].ArtifactType != "application/spdx+json" {
		t.Fatalf("referrers: %s", b)
	}
	resp, b = do(t, "GET", srv.URL+"/v2/models/referrers/"+f.v1.Digest.String()+"?artifactType=application/vnd.other")
	idx = ocispec.Index{}
	json.Unmarshal(b, &idx)
	if len(idx.Manifests) != 0 || resp.Header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("filtered referrers: %s %v", b, resp.Header)
	}
	if resp, _ := do(t, "GET", srv.URL+"/v2/models/referrers/"+f.v2.Digest.String()); resp.StatusCode != 200 {
		t.Fatalf("referrers of an artifact that has none: %d", resp.StatusCode)
	}
}

func TestServeBasicAuth(t *testing.T) {
	f := newFixture(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	file := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(file, []byte("# users\nalice:"+string(hash)+"\n"), 0o600)
	h, err := serve.LoadHtpasswd(file)
	if err != nil {
		t.Fatal(err)
	}
	srv := start(t, serve.Options{Auth: h}, serve.Repo{Name: "models", Dir: f.dir})
	if resp, _ := do(t, "GET", srv.URL+"/v2/models/manifests/v1"); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no credentials: %d", resp.StatusCode)
	}
	for _, c := range [][2]string{{"alice", "wrong"}, {"bob", "s3cret"}} {
		req, _ := http.NewRequest("GET", srv.URL+"/v2/", nil)
		req.SetBasicAuth(c[0], c[1])
		if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
			t.Fatalf("%s/%s let in", c[0], c[1])
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v2/models/manifests/v1", nil)
	req.SetBasicAuth("alice", "s3cret")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 200 {
		t.Fatalf("alice refused: %d", resp.StatusCode)
	}
	os.WriteFile(file, []byte("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600)
	if _, err := serve.LoadHtpasswd(file); err == nil || !strings.Contains(err.Error(), "bcrypt") {
		t.Fatalf("a non-bcrypt htpasswd was accepted: %v", err)
	}
}

func TestServeRefusesBadNames(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"Models", "a//b", "-x", "a/", ""} {
		if _, err := serve.New([]serve.Repo{{Name: name, Dir: f.dir}}, serve.Options{}); err == nil {
			t.Errorf("repository name %q accepted", name)
		}
	}
	if _, err := serve.New([]serve.Repo{{Name: "a", Dir: f.dir}, {Name: "a", Dir: f.dir}}, serve.Options{}); err == nil {
		t.Error("a name given twice was accepted")
	}
	if _, err := serve.New([]serve.Repo{{Name: "a", Dir: t.TempDir()}}, serve.Options{}); err == nil {
		t.Error("a directory that is not a layout was accepted")
	}
}

// A blob being served holds the layout's shared lock: gc cannot take it
// exclusively until the response is done.
func TestServeHoldsLockWhileServing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "big")
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 64<<20)
	d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(big), Size: int64(len(big))}
	l.Blobs().Put(ctx, bytes.NewReader(big), d)
	l.PutDocument(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{d}}
	m.SchemaVersion = 2
	md, _ := l.PutJSON(ctx, ocispec.MediaTypeImageManifest, m)
	l.Tag(ctx, "v1", md, layout.ConflictFail)
	l.Close()
	srv := start(t, serve.Options{}, serve.Repo{Name: "big", Dir: dir})
	resp, err := http.Get(srv.URL + "/v2/big/blobs/" + d.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, resp.Body, 1<<20) // the handler is still writing
	if g, err := layout.Open(dir, layout.Options{Mode: layout.Exclusive, LockTimeout: 0}); err == nil {
		g.Close()
		t.Fatal("gc got the layout exclusively while a blob was being served")
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	srv.CloseClientConnections()
	var g *layout.Layout
	for i := 0; i < 100 && g == nil; i++ {
		g, _ = layout.Open(dir, layout.Options{Mode: layout.Exclusive, LockTimeout: 50 * time.Millisecond})
	}
	if g == nil {
		t.Fatal("gc never got the layout after the response ended")
	}
	g.Close()
}
