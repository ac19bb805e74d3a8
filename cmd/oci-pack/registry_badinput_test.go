package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// fakeRegistry serves one manifest (tag v1) whose one layer is layer, and
// misbehaves as mode says: "401" refuses everything, "wrong-digest" sends
// other bytes of the same length for the layer, "truncated" sends a short
// layer, "over-budget" announces a 9 MiB manifest.
type fakeRegistry struct {
	mode     string
	manifest []byte
	layer    []byte
}

const emptyConfig = "{}"

func newFakeRegistry(mode string) *fakeRegistry {
	layer := bytes.Repeat([]byte("weights "), 4096)
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/octet-stream","digest":"%s","size":%d}]}`, sha(emptyConfig), sha(string(layer)), len(layer))
	return &fakeRegistry{mode: mode, manifest: []byte(m), layer: layer}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.mode == "401" {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(p, "/manifests/"):
		d := sha(string(f.manifest))
		size := len(f.manifest)
		if f.mode == "over-budget" {
			size = 9 << 20
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		if r.Method == http.MethodGet && f.mode != "over-budget" {
			w.Write(f.manifest)
		}
	case strings.HasSuffix(p, "/blobs/"+sha(emptyConfig)):
		w.Write([]byte(emptyConfig))
	case strings.HasSuffix(p, "/blobs/"+sha(string(f.layer))):
		body := f.layer
		switch f.mode {
		case "wrong-digest":
			body = bytes.ToUpper(f.layer)
		case "truncated":
			body = f.layer[:len(f.layer)/2]
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

// TestPullBadRegistry: an unreachable registry, a 401, a registry that
// sends a wrong digest or a truncated blob, and a manifest over the JSON
// budget each fail with one clear error of the right class, and leave the
// layout as it was: index.json byte-identical, no blob but verified ones,
// no staging.
func TestPullBadRegistry(t *testing.T) {
	cases := []struct {
		mode string
		code int
		must []string
	}{
		{"unreachable", exitFailure, []string{"connection refused"}},
		{"401", exitFailure, []string{"401", "oci-pack login"}},
		{"wrong-digest", exitIntegrity, []string{sha(string(newFakeRegistry("").layer))}},
		{"truncated", exitIntegrity, []string{"16384 bytes", "32768"}},
		{"over-budget", exitIntegrity, []string{"9437184 bytes", "budget"}},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			addr := "127.0.0.1:1"
			if c.mode != "unreachable" {
				srv := httptest.NewServer(newFakeRegistry(c.mode))
				defer srv.Close()
				addr = strings.TrimPrefix(srv.URL, "http://")
			}
			dst := filepath.Join(t.TempDir(), "L")
			regMust(t, "init", dst)
			snap := rtest.Snap(t, dst)
			r := regRun(t, "pull", addr+"/repo/m:v1", dst, "--plain-http", "-q")
			t.Logf("exit %d: %s", r.code, r.stderr)
			rtest.AssertFail(t, rtest.Result{Code: r.code, Stdout: r.stdout, Stderr: r.stderr}, c.code, c.must...)
			after := rtest.Snap(t, dst)
			if after.IndexSHA != snap.IndexSHA {
				t.Errorf("index.json changed")
			}
			for p := range after.Blobs {
				if strings.HasSuffix(p, sha(string(newFakeRegistry("").layer))[7:]) {
					t.Errorf("the bad layer was committed as %s", p)
				}
			}
			rtest.AssertNoStaging(t, dst)
			regMust(t, "verify", dst)
		})
	}
}
