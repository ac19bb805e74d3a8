package main

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// needTool returns the path of an interop tool, skipping the test when it
// is missing (a failure under CI=true, where every tool must be there).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p := txFindTool(name)
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found on PATH or in $HOME/.cache/oci-pack-tools/bin (scripts/tools.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// startRegistry runs a distribution registry on 127.0.0.1 for the test
// (scripts/registry.sh) and returns its address.
func startRegistry(t *testing.T) string {
	t.Helper()
	addr, _ := startRegistryIn(t)
	return addr
}

// startRegistryIn is startRegistry that also returns the registry's
// directory (its storage is under data/).
func startRegistryIn(t *testing.T) (string, string) {
	t.Helper()
	needTool(t, "registry")
	dir := t.TempDir()
	script, _ := filepath.Abs("../../scripts/registry.sh")
	out, err := exec.Command(script, "start", dir).Output()
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() { exec.Command(script, "stop", dir).Run() })
	return strings.TrimSpace(string(out)), dir
}

// regEnv keeps the binary away from the user's Docker credentials.
func regEnv(t *testing.T) []string {
	return []string{"DOCKER_CONFIG=" + t.TempDir()}
}

// regRun runs the binary with regEnv.
func regRun(t *testing.T, args ...string) result {
	t.Helper()
	return ociPackEnv(t, "", regEnv(t), args...)
}

func regMust(t *testing.T, args ...string) result {
	t.Helper()
	r := regRun(t, args...)
	if r.code != 0 {
		t.Fatalf("oci-pack %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// recorder is a reverse proxy in front of a registry that counts the
// bytes of blob data crossing it: request bodies of uploads (POST, PATCH,
// PUT under /blobs/uploads/) and response bodies of blob GETs.
type recorder struct {
	Addr         string
	up, down     atomic.Int64
	srv          *http.Server
	upstreamHost string
}

func startRecorder(t *testing.T, upstream string) *recorder {
	t.Helper()
	target, _ := url.Parse("http://" + upstream)
	r := &recorder{upstreamHost: upstream}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.Contains(resp.Request.URL.Path, "/blobs/sha256:") {
			resp.Body = &countingBody{ReadCloser: resp.Body, n: &r.down}
		}
		return nil
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/blobs/uploads/") && req.Body != nil {
			req.Body = &countingBody{ReadCloser: req.Body, n: &r.up}
		}
		rp.ServeHTTP(w, req)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = ln.Addr().String()
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// reset zeroes the counters.
func (r *recorder) reset() { r.up.Store(0); r.down.Store(0) }

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// writeRandom writes size pseudo-random (incompressible) bytes to path.
func writeRandom(t *testing.T, path string, size int64, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	if _, err := io.CopyN(w, r, size); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
