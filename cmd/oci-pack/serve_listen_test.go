package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestServeRefusesOpenListen: serve on an address beyond loopback without
// TLS and --htpasswd exits 2 naming what is missing and the way out
// (nothing printed on stdout, so no caller takes it for a served address);
// --insecure-listen serves anyway; with TLS and --htpasswd it serves
// without the flag.
func TestServeRefusesOpenListen(t *testing.T) {
	src := transferFixture(t, bin(t))
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	os.WriteFile(htpasswd, []byte("robot:"+string(hash)+"\n"), 0o600)

	r := expect(t, "", exitUsage, []string{"refusing to serve", "TLS (--tls-cert, --tls-key) and authentication (--htpasswd)", "--insecure-listen"},
		"serve", src, "--addr", "0.0.0.0:0")
	if r.stdout != "" {
		t.Errorf("a refused serve printed %q on stdout", r.stdout)
	}
	r = expect(t, "", exitUsage, []string{"without TLS (--tls-cert, --tls-key):"}, "serve", src, "--addr", "0.0.0.0:0", "--htpasswd", htpasswd)
	if strings.Contains(r.stderr, "authentication (--htpasswd)") {
		t.Errorf("authentication was given, yet named missing: %s", r.stderr)
	}

	addr := startServe(t, src, "--name", "models", "--addr", "0.0.0.0:0", "--insecure-listen")
	if got := getStatus(t, http.DefaultClient, "http://"+loopbackOf(t, addr)+"/v2/"); got != http.StatusOK {
		t.Errorf("GET /v2/ with --insecure-listen: %d, want 200", got)
	}

	cert, key := selfSigned(t)
	addr = startServe(t, src, "--name", "models", "--addr", "0.0.0.0:0", "--tls-cert", cert, "--tls-key", key, "--htpasswd", htpasswd)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if got := getStatus(t, c, "https://"+loopbackOf(t, addr)+"/v2/"); got != http.StatusUnauthorized {
		t.Errorf("GET /v2/ over TLS without credentials: %d, want 401", got)
	}
}

// loopbackOf turns a printed listen address (e.g. [::]:PORT) into
// 127.0.0.1:PORT.
func loopbackOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("serve printed %q: %v", addr, err)
	}
	return net.JoinHostPort("127.0.0.1", port)
}

func getStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// selfSigned writes a certificate for 127.0.0.1 and its key; it returns
// their paths.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "oci-pack test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestServeConnectionCap: serve keeps at most --max-connections client
// connections open (each holds a file descriptor the blobs being served
// need): beyond it a connection waits to be accepted — its request is not
// answered — until one closes; then it is served. A cap below 1 is a
// usage error.
func TestServeConnectionCap(t *testing.T) {
	src := transferFixture(t, bin(t))
	expect(t, "", exitUsage, []string{"--max-connections 0"}, "serve", src, "--max-connections", "0")
	addr := startServe(t, src, "--max-connections", "2")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	time.Sleep(200 * time.Millisecond) // both accepted
	c := &http.Client{Timeout: 700 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := c.Get("http://" + addr + "/v2/"); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection was served (%s) with two held and --max-connections 2", resp.Status)
	}
	held[0].Close()
	c.Timeout = 10 * time.Second
	if got := getStatus(t, c, "http://"+addr+"/v2/"); got != http.StatusOK {
		t.Errorf("GET /v2/ after a held connection closed: %d, want 200", got)
	}
}
