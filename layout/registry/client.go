// Package registry moves a layout's graphs to and from OCI registries:
// Push and Pull copy an artifact with its referrers and index members,
// blobs in parallel, skipping what the far side has, verifying every
// byte, and resuming interrupted blob transfers from state kept in the
// layout's private directory. It is built on oras-go v2 (registry client,
// authentication, the referrers API with the tag-schema fallback); the
// resumable blob transfers speak the distribution-spec chunked-upload and
// Range protocol over oras-go's authenticating HTTP client.
//
// Nothing here writes index.json or a blob other than through the
// layout's doors: pulled manifests go through PutDocument, other blobs
// through cas.Writer with the expected descriptor, tags and referrers
// through UpdateIndex.
package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// ClientOptions say how to reach a registry.
type ClientOptions struct {
	// PlainHTTP talks HTTP instead of HTTPS (a registry on loopback).
	PlainHTTP bool
	// CAFile is a PEM bundle trusted for the registry's TLS certificate,
	// in addition to the system's roots.
	CAFile string
	// Credential resolves the credential for a host ("" fields:
	// anonymous). Credentials never appear in messages.
	Credential auth.CredentialFunc
	// UserAgent is sent with every request.
	UserAgent string
}

// Remote is one repository on a registry and the client that reaches it.
type Remote struct {
	// Ref is the repository (and tag or digest, if one was given).
	Ref Reference
	// Repo is oras-go's client for the repository.
	Repo *remote.Repository
	// Client is the authenticating HTTP client Repo uses; blob transfers
	// use it directly for the chunked-upload and Range protocol.
	Client    *auth.Client
	plainHTTP bool
}

// NewRemote returns a client for the repository ref names (HOST/REPO,
// with an optional tag or digest).
func NewRemote(ref string, o ClientOptions) (*Remote, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(o)
	if err != nil {
		return nil, err
	}
	ac := &auth.Client{Client: hc, Cache: auth.NewCache(), Credential: o.Credential}
	if o.UserAgent != "" {
		ac.SetUserAgent(o.UserAgent)
	}
	return &Remote{Ref: r, Repo: newRepository(r, ac, o.PlainHTTP), Client: ac, plainHTTP: o.PlainHTTP}, nil
}

// Sibling returns a client for another repository on the same registry,
// sharing the connection pool and cached tokens.
func (r *Remote) Sibling(repository string) *Remote {
	ref := Reference{Registry: r.Ref.Registry, Repository: repository}
	return &Remote{Ref: ref, Repo: newRepository(ref, r.Client, r.plainHTTP), Client: r.Client, plainHTTP: r.plainHTTP}
}

func newRepository(ref Reference, c *auth.Client, plainHTTP bool) *remote.Repository {
	return &remote.Repository{
		Client:           c,
		Reference:        Reference{Registry: ref.Registry, Repository: ref.Repository},
		PlainHTTP:        plainHTTP,
		MaxMetadataBytes: strictjson.MaxDocument,
		// oras-go follows a registry's Link headers for as long as it
		// sends them: one that always sends one would never end.
		ReferrerListMaxPages: maxListPages,
		TagListMaxPages:      maxListPages,
	}
}

// maxListPages bounds the pages of a referrers or tag list.
const maxListPages = 1000

// String is HOST/REPO[:TAG|@DIGEST].
func (r *Remote) String() string { return r.Ref.String() }

// baseURL is scheme://host/v2/repo.
func (r *Remote) baseURL() string {
	scheme := "https"
	if r.plainHTTP {
		scheme = "http"
	}
	return fmt.Sprintf("%s://%s/v2/%s", scheme, r.Ref.Host(), r.Ref.Repository)
}

// httpClient is the transport under the authenticating client: TLS with
// the extra CA, bounded waits for headers and for every read and write
// (idleConn: a stalled transfer times out), and oras-go's retry transport
// (exponential backoff on 5xx, 429 and timeouts).
func httpClient(o ClientOptions) (*http.Client, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           idleDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A registry finishing a multi-GB upload may take a while to
		// answer the final PUT, but not forever.
		ResponseHeaderTimeout: 10 * time.Minute,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if o.CAFile != "" {
		pem, err := readCAFile(o.CAFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: CA file %s: no PEM certificate in it", layout.ErrInvalidArgument, o.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: retry.NewTransport(tr)}, nil
}

// readCAFile reads a CA bundle: a regular file of at most 4 MiB.
func readCAFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: CA file %s is not a regular file", layout.ErrInvalidArgument, name)
	}
	b, err := strictjson.ReadAll(f, 4<<20)
	if err != nil {
		return nil, fmt.Errorf("CA file %s: %w", name, err)
	}
	return b, nil
}
