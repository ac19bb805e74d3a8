package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// refusesChunks reports whether a PATCH failed because the registry does
// not take chunked uploads at all (405, 501, or 400 on the first chunk).
func refusesChunks(err error) bool {
	var er *errcode.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	return er.StatusCode == http.StatusMethodNotAllowed || er.StatusCode == http.StatusNotImplemented || er.StatusCode == http.StatusBadRequest
}

var (
	errSessionGone    = errors.New("the registry no longer has the upload session")
	errRegistryDigest = errors.New("the registry refused the digest of what it received")
	// errUnsureOffset: the upload status said "Range: 0-0". The range is
	// inclusive, so by the distribution spec the session holds one byte
	// and the next chunk starts at 1; but distribution (the reference
	// registry) sends "0-0" for an empty session too, and then refuses a
	// chunk at 1 with 416. Either way at most one byte is held: the upload
	// starts over in a new session rather than guess (guessing 0 against
	// a registry holding the byte meets 416 on every retry and stalls).
	errUnsureOffset = errors.New("the upload session holds 0 or 1 byte (Range: 0-0)")
)

// location resolves a response's Location header against its request.
func location(resp *http.Response) (string, error) {
	u, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("%s %s: no usable Location header (%v): %w", resp.Request.Method, redact(resp.Request.URL.String()), err, ErrProtocol)
	}
	return u.String(), nil
}

// parseRange reads an upload's Range header, "0-LAST" (or "bytes=0-LAST"),
// and returns LAST, the index of the last byte held.
func parseRange(v string) (int64, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "bytes=")
	start, end, ok := strings.Cut(v, "-")
	if !ok || start != "0" {
		return 0, false
	}
	e, err := strconv.ParseInt(end, 10, 64)
	if err != nil || e < 0 {
		return 0, false
	}
	return e, true
}

// redact drops the query (upload state tokens) from a URL for messages.
func redact(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}

func short(d digest.Digest) string {
	if e := d.Encoded(); len(e) > 12 {
		return d.Algorithm().String() + ":" + e[:12]
	}
	return d.String()
}
