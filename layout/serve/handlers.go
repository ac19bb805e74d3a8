package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tagGrammar is the distribution spec's tag grammar.
var tagGrammar = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// manifest serves GET and HEAD /v2/<name>/manifests/<tag|digest>: the
// stored bytes, re-checked against their digest and the JSON budget, with
// the media type the index (or the document) gives.
func (rp *repo) manifest(w http.ResponseWriter, r *http.Request, ref string) {
	if !readMethod(w, r) {
		return
	}
	l, ok := rp.open(r.Context(), w)
	if !ok {
		return
	}
	defer l.Close()
	var desc ocispec.Descriptor
	if strings.Contains(ref, ":") {
		d, err := cas.ParseDigest(ref)
		if err != nil {
			writeError(w, http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("invalid digest %q", ref))
			return
		}
		reach, err := rp.reachable(r.Context(), l)
		if err != nil {
			rp.fail(w, err)
			return
		}
		desc, ok = reach[d]
		if !ok || !layout.IsDocument(desc) {
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("manifest %s unknown to repository %s", d, rp.name))
			return
		}
	} else {
		if !tagGrammar.MatchString(ref) {
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("no tag %q", ref))
			return
		}
		idx, err := l.Index(r.Context())
		if err != nil {
			rp.fail(w, err)
			return
		}
		if desc, ok = layout.FindTag(idx, ref); !ok || !layout.IsDocument(desc) {
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("tag %q unknown to repository %s", ref, rp.name))
			return
		}
	}
	b, err := l.ReadBlobJSON(r.Context(), desc)
	if errors.Is(err, cas.ErrNotFound) {
		writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("manifest %s is not stored", desc.Digest))
		return
	}
	if err != nil {
		rp.fail(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", desc.MediaType)
	h.Set("Docker-Content-Digest", desc.Digest.String())
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("ETag", `"`+desc.Digest.String()+`"`)
	if r.Method == http.MethodHead {
		return
	}
	w.Write(b)
}

// blob serves GET and HEAD /v2/<name>/blobs/<digest>, with Range, for a
// blob index.json reaches. A Range past the end gets 416.
func (rp *repo) blob(w http.ResponseWriter, r *http.Request, ref string) {
	l, d, ok := rp.openByDigest(w, r, ref)
	if !ok {
		return
	}
	defer l.Close()
	reach, err := rp.reachable(r.Context(), l)
	if err != nil {
		rp.fail(w, err)
		return
	}
	desc, ok := reach[d]
	if !ok {
		writeError(w, http.StatusNotFound, "BLOB_UNKNOWN", fmt.Sprintf("blob %s unknown to repository %s", d, rp.name))
		return
	}
	f, err := l.Blobs().Open(r.Context(), d)
	if errors.Is(err, cas.ErrNotFound) {
		writeError(w, http.StatusNotFound, "BLOB_UNKNOWN", fmt.Sprintf("blob %s is not stored (sparse layout)", d))
		return
	}
	if err != nil {
		rp.fail(w, err)
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != desc.Size {
		rp.fail(w, fmt.Errorf("blob %s: stored size differs from the descriptor's %d (run verify)", d, desc.Size))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", d.String())
	h.Set("ETag", `"`+d.String()+`"`)
	http.ServeContent(w, r, "", time.Time{}, f)
}

// tags serves /v2/<name>/tags/list, sorted, paginated by n and last.
func (rp *repo) tags(w http.ResponseWriter, r *http.Request, rest string) {
	if !readMethod(w, r) {
		return
	}
	if rest != "" {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "unknown endpoint")
		return
	}
	l, ok := rp.open(r.Context(), w)
	if !ok {
		return
	}
	defer l.Close()
	idx, err := l.Index(r.Context())
	if err != nil {
		rp.fail(w, err)
		return
	}
	var all []string
	for _, t := range layout.Tags(idx) {
		if tagGrammar.MatchString(t.Name) {
			all = append(all, t.Name)
		}
	}
	sort.Strings(all)
	if _, err := pageSize(r); err != nil {
		writeError(w, http.StatusBadRequest, "UNSUPPORTED", err.Error())
		return
	}
	names, next := page(all, r)
	if next != "" {
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?%s>; rel="next"`, rp.name, next))
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, "application/json", map[string]any{"name": rp.name, "tags": names})
}

// referrers serves /v2/<name>/referrers/<digest>, filtered by
// artifactType when asked (and says so in OCI-Filters-Applied).
func (rp *repo) referrers(w http.ResponseWriter, r *http.Request, ref string) {
	l, d, ok := rp.openByDigest(w, r, ref)
	if !ok {
		return
	}
	defer l.Close()
	at := r.URL.Query().Get("artifactType")
	refs, err := l.Referrers(r.Context(), d, at)
	if err != nil {
		rp.fail(w, err)
		return
	}
	if at != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	if refs == nil {
		refs = []ocispec.Descriptor{}
	}
	writeJSON(w, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: refs,
	})
}

// upload refuses every blob upload: the endpoint is read-only.
func (rp *repo) upload(w http.ResponseWriter, r *http.Request, _ string) {
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only (oci-pack serve): push to a registry, or write the layout with oci-pack")
}

// reachCache is the reachable set of one version of index.json.
type reachCache struct {
	index os.FileInfo
	set   map[digest.Digest]ocispec.Descriptor
}

// reachable returns every descriptor index.json reaches, recomputed when
// index.json is replaced.
func (rp *repo) reachable(ctx context.Context, l *layout.Layout) (map[digest.Digest]ocispec.Descriptor, error) {
	fi, err := l.Root().Stat(layout.IndexFile)
	if err != nil {
		return nil, err
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if c := rp.cache; c != nil && os.SameFile(c.index, fi) && c.index.ModTime().Equal(fi.ModTime()) && c.index.Size() == fi.Size() {
		return c.set, nil
	}
	set, err := l.Reachable(ctx)
	if err != nil {
		return nil, err
	}
	rp.cache = &reachCache{index: fi, set: set}
	return set, nil
}

// openByDigest starts a GET or HEAD of a path ending in a digest: it
// checks the method and the digest and opens the layout, answering the
// request itself (and returning ok false) when one of them fails.
func (rp *repo) openByDigest(w http.ResponseWriter, r *http.Request, ref string) (*layout.Layout, digest.Digest, bool) {
	if !readMethod(w, r) {
		return nil, "", false
	}
	d, err := cas.ParseDigest(ref)
	if err != nil {
		writeError(w, http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("invalid digest %q", ref))
		return nil, "", false
	}
	l, ok := rp.open(r.Context(), w)
	return l, d, ok
}
