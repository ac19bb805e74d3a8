package registry

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	"oras.land/oras-go/v2/registry/remote/errcode"
)

// maxFailures is how many transient failures in a row one blob transfer
// survives (progress resets the count); each is followed by a backoff.
const maxFailures = 6

// transient reports whether err is worth retrying after a pause: the
// connection dropped, timed out or was refused, the body was cut short,
// or the registry answered 408, 416, 429 or 5xx. A cancelled context is
// never transient.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil || err == nil {
		return false
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		s := er.StatusCode
		return s == http.StatusRequestTimeout || s == http.StatusRequestedRangeNotSatisfiable ||
			s == http.StatusTooManyRequests || s >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

// backoff waits before retry n (1, 2, …): 0.5 s doubling up to 16 s, with
// jitter, or until ctx is done.
func backoff(ctx context.Context, n int) error {
	d := min(500*time.Millisecond<<(n-1), 16*time.Second)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
