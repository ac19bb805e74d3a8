package serve

import (
	"io"
	"net/http"
	"time"
)

// idleWriter gives every write of a response a deadline of idle from its
// start (http.ResponseController), so a client that stops reading a blob
// mid-download fails its request instead of holding one of the
// MaxInFlight slots, and its layout's shared lock (which gc waits for),
// forever. A download of any size is fine as long as it keeps moving.
type idleWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func newIdleWriter(w http.ResponseWriter, idle time.Duration) *idleWriter {
	return &idleWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: idle}
}

func (w *idleWriter) deadline() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle)) // unsupported (HTTP/2 test recorders): no deadline
}

func (w *idleWriter) Write(p []byte) (int, error) {
	w.deadline()
	return w.ResponseWriter.Write(p)
}

// ReadFrom copies in chunks, each under its own deadline, through the
// underlying writer's ReadFrom where it has one (sendfile from a blob).
func (w *idleWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{w}, src)
	}
	// One level of limit only, so that a file under it is still seen
	// (and sent with sendfile): http.ServeContent passes a file limited
	// to the range.
	inner, left := src, int64(-1)
	if lr, ok := src.(*io.LimitedReader); ok {
		inner, left = lr.R, lr.N
	}
	var total int64
	for left != 0 {
		chunk := int64(idleChunk)
		if left > 0 {
			chunk = min(chunk, left)
		}
		w.deadline()
		n, err := rf.ReadFrom(&io.LimitedReader{R: inner, N: chunk})
		total += n
		if left > 0 {
			left -= n
		}
		if err != nil || n < chunk {
			if lr, ok := src.(*io.LimitedReader); ok {
				lr.N = left
			}
			return total, err
		}
	}
	if lr, ok := src.(*io.LimitedReader); ok {
		lr.N = 0
	}
	return total, nil
}

// idleChunk is how much one deadline covers in ReadFrom.
const idleChunk = 4 << 20

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
