package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
)

// maxStateBytes bounds a state file read back (RELIABILITY I15).
const maxStateBytes = 64 << 10

// uploadState is what an interrupted push keeps for one blob, in the
// layout's ResumeDir: the registry's upload session and how far it got.
// Its credentials are never stored: the session URL is what the registry
// handed out, and requests to it authenticate afresh.
type uploadState struct {
	Registry   string        `json:"registry"`
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest"`
	Size       int64         `json:"size"`
	Location   string        `json:"location"`
	Offset     int64         `json:"offset"`
	// HashState is the marshalled SHA-256 state of the first Offset
	// bytes sent.
	HashState []byte `json:"hashState"`
}

// downloadState is what an interrupted pull keeps for one blob beside its
// partial file: the checkpoint of the bytes staged.
type downloadState struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	Offset    int64         `json:"offset"`
	HashState []byte        `json:"hashState"`
}

func uploadStateName(r *Remote, d digest.Digest) string {
	sum := sha256.Sum256([]byte(r.Ref.Registry + "/" + r.Ref.Repository))
	return "push-" + hex.EncodeToString(sum[:8]) + "-" + d.Encoded() + ".json"
}

func downloadStateName(d digest.Digest) string { return "pull-" + d.Encoded() + ".json" }

func partialName(d digest.Digest) string { return "pull-" + d.Encoded() + ".partial" }

// loadUpload reads the upload state for d on r, or nil when there is none
// usable: missing, unreadable, not a regular file, malformed, for another
// blob or registry, or naming a session URL on another host (a planted
// file must not send the blob elsewhere).
func loadUpload(l *layout.Layout, r *Remote, d digest.Digest, size int64) *uploadState {
	b, err := l.ReadState(uploadStateName(r, d), maxStateBytes)
	if err != nil {
		return nil
	}
	var st uploadState
	if strictjson.Unmarshal(b, &st) != nil {
		return nil
	}
	if st.Registry != r.Ref.Registry || st.Repository != r.Ref.Repository || st.Digest != d || st.Size != size ||
		st.Offset < 0 || st.Offset > size || !r.sameHost(st.Location) {
		return nil
	}
	return &st
}

// loadDownload reads the download checkpoint for d, or nil.
func loadDownload(l *layout.Layout, d digest.Digest, size int64) *downloadState {
	b, err := l.ReadState(downloadStateName(d), maxStateBytes)
	if err != nil {
		return nil
	}
	var st downloadState
	if strictjson.Unmarshal(b, &st) != nil || st.Digest != d || st.Size != size || st.Offset < 0 || st.Offset > size {
		return nil
	}
	return &st
}

func saveState(l *layout.Layout, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return l.WriteState(name, b)
}

// sameHost reports whether loc is an absolute URL on r's registry, with
// r's scheme.
func (r *Remote) sameHost(loc string) bool {
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	scheme := "https"
	if r.plainHTTP {
		scheme = "http"
	}
	return u.Scheme == scheme && u.Host == r.Ref.Host() && u.User == nil
}
