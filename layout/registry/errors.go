package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Sentinel errors; the CLI maps them to exit codes and hints. Integrity
// failures (a wrong digest, a short blob, a manifest over budget) wrap the
// cas, layout and strictjson sentinels instead.
var (
	// ErrUnauthorized: the registry refused the request for lack of
	// (valid) credentials or permission (HTTP 401 or 403).
	ErrUnauthorized = errors.New("registry refused access")
	// ErrNotFound: the registry has no such repository, tag or digest.
	ErrNotFound = errors.New("not found in registry")
	// ErrProtocol: the registry answered in a way the distribution spec
	// does not allow (a missing upload location, a bad Range header).
	ErrProtocol = errors.New("unexpected registry response")
)

// classify adds this package's sentinels to an error from oras-go or from
// a response, keeping its text.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var er *errcode.ErrorResponse
	switch {
	case errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case errors.Is(err, auth.ErrBasicCredentialNotFound), strings.Contains(err.Error(), "missing username or password"):
		return fmt.Errorf("%w: the registry answered 401 (credentials required) and none are configured for it: %w", ErrUnauthorized, err)
	case errors.As(err, &er) && er.StatusCode == http.StatusNotFound, errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// responseError turns an unexpected response into an error naming the
// request and the registry's error codes (the body is read up to 64 KiB).
func responseError(resp *http.Response) error {
	e := &errcode.ErrorResponse{Method: resp.Request.Method, URL: resp.Request.URL, StatusCode: resp.StatusCode}
	var body struct {
		Errors errcode.Errors `json:"errors"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil {
		e.Errors = body.Errors
	}
	return classify(e)
}

// drain reads what is left of a response body (bounded) and closes it, so
// the connection can be reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
