// Package serve is a read-only OCI distribution endpoint over image
// layouts in place: each layout is one repository, nothing is copied, and
// every request holds its layout's shared gc lock, so gc never removes a
// blob while it is being served. Only what index.json reaches is served
// (a blob gc would remove is not); manifests and indexes are re-checked
// against their digests and the JSON budget before they leave; writes are
// refused with the distribution spec's error codes.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oci-pack/oci-pack/layout"
)

// Repo is a layout served as a repository.
type Repo struct {
	Name string // repository name, e.g. "models/llama"
	Dir  string // the layout directory
}

// Options tune a Server.
type Options struct {
	// LockTimeout bounds a request's wait for its layout's shared lock
	// (while gc runs); past it the request gets 503.
	LockTimeout time.Duration
	// MaxInFlight bounds the requests served at once (default 64); more
	// wait up to QueueTimeout, then get 503.
	MaxInFlight  int
	QueueTimeout time.Duration
	// WriteIdle bounds how long one write of a response may wait for the
	// client to read (default 2 minutes): a client that stops reading
	// loses its request (and its slot) instead of holding it forever.
	WriteIdle time.Duration
	// Auth, if not nil, checks every request's basic credentials.
	Auth *Htpasswd
	// Log, if not nil, gets one line per failed request.
	Log func(string)
}

// Server serves repositories.
type Server struct {
	repos map[string]*repo
	names []string
	o     Options
	sem   chan struct{}
}

// repoName is the distribution spec's repository name grammar.
var repoName = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

// New checks the repositories (names in the spec's grammar and distinct,
// each directory an OCI layout) and returns a Server for them.
func New(repos []Repo, o Options) (*Server, error) {
	if len(repos) == 0 {
		return nil, fmt.Errorf("%w: nothing to serve", layout.ErrInvalidArgument)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	if o.QueueTimeout <= 0 {
		o.QueueTimeout = 30 * time.Second
	}
	if o.WriteIdle <= 0 {
		o.WriteIdle = 2 * time.Minute
	}
	s := &Server{repos: map[string]*repo{}, o: o, sem: make(chan struct{}, o.MaxInFlight)}
	for _, r := range repos {
		if len(r.Name) > 255 || !repoName.MatchString(r.Name) {
			return nil, fmt.Errorf("%w: repository name %q: want lowercase path components of letters and digits joined by . _ __ or - (the distribution spec's grammar)", layout.ErrInvalidArgument, r.Name)
		}
		if _, dup := s.repos[r.Name]; dup {
			return nil, fmt.Errorf("%w: repository name %q given twice", layout.ErrInvalidArgument, r.Name)
		}
		l, err := layout.Open(r.Dir, layout.Options{Mode: layout.ReadOnly, LockTimeout: o.LockTimeout})
		if err != nil {
			return nil, err
		}
		l.Close()
		s.repos[r.Name] = &repo{name: r.Name, dir: r.Dir, s: s}
		s.names = append(s.names, r.Name)
	}
	sort.Strings(s.names)
	return s, nil
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := newIdleWriter(rw, s.o.WriteIdle)
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if s.o.Auth != nil && !s.o.Auth.check(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="oci-pack"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	t := time.NewTimer(s.o.QueueTimeout)
	select {
	case s.sem <- struct{}{}:
		t.Stop()
		defer func() { <-s.sem }()
	case <-t.C:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "TOOMANYREQUESTS", "server busy")
		return
	case <-r.Context().Done():
		t.Stop()
		return
	}
	p := r.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		if !readMethod(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		return
	case p == "/v2/_catalog":
		if readMethod(w, r) {
			s.catalog(w, r)
		}
		return
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "not an OCI distribution endpoint")
		return
	}
	// The endpoint is named by the last of these separators in the path
	// (a repository name may contain "blobs" or "manifests" as a
	// component); on a tie the first listed wins.
	type route struct {
		sep string
		fn  func(*repo, http.ResponseWriter, *http.Request, string)
	}
	best, at := route{}, -1
	for _, rt := range []route{
		{"/blobs/uploads", (*repo).upload},
		{"/manifests/", (*repo).manifest},
		{"/blobs/", (*repo).blob},
		{"/referrers/", (*repo).referrers},
		{"/tags/list", (*repo).tags},
	} {
		if i := strings.LastIndex(rest, rt.sep); i > at {
			best, at = rt, i
		}
	}
	if at > 0 {
		rp, ok := s.repos[rest[:at]]
		if !ok {
			writeError(w, http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf("repository %q is not served here", rest[:at]))
			return
		}
		best.fn(rp, w, r, rest[at+len(best.sep):])
		return
	}
	writeError(w, http.StatusNotFound, "NOT_FOUND", "unknown endpoint")
}

// catalog lists the repositories served.
func (s *Server) catalog(w http.ResponseWriter, r *http.Request) {
	names, next := page(s.names, r)
	if next != "" {
		w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?%s>; rel="next"`, next))
	}
	writeJSON(w, "application/json", map[string]any{"repositories": names})
}

// readMethod allows GET and HEAD; anything else gets 405 UNSUPPORTED.
func readMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only (oci-pack serve)")
	return false
}

// writeError sends the distribution spec's error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

func writeJSON(w http.ResponseWriter, mediaType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Write(b)
}

// repo is one served layout, with the reachable set of its current
// index.json cached.
type repo struct {
	name, dir string
	s         *Server
	mu        sync.Mutex
	cache     *reachCache
}

// open opens the layout for one request, holding its gc lock shared until
// the returned layout is closed.
func (rp *repo) open(ctx context.Context, w http.ResponseWriter) (*layout.Layout, bool) {
	l, err := layout.Open(rp.dir, layout.Options{Mode: layout.ReadOnly, LockTimeout: rp.s.o.LockTimeout, Context: ctx})
	if err != nil {
		if errors.Is(err, layout.ErrLocked) {
			w.Header().Set("Retry-After", "10")
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "layout busy (gc)")
		} else {
			rp.fail(w, err)
		}
		return nil, false
	}
	return l, true
}

// fail reports an internal error without detail (paths stay private).
func (rp *repo) fail(w http.ResponseWriter, err error) {
	if rp.s.o.Log != nil {
		rp.s.o.Log(fmt.Sprintf("serve %s: %v", rp.name, err))
	}
	writeError(w, http.StatusInternalServerError, "UNKNOWN", "internal error")
}
