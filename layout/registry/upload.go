package registry

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// DefaultChunkSize is what one PATCH of an upload carries. An upload cut
// short resumes at the end of the last chunk the registry stored (or
// later, if it kept part of the next), so this bounds what is sent twice.
const DefaultChunkSize = 16 << 20

// uploader sends blobs with the distribution spec's chunked-upload
// protocol (POST, PATCH with Content-Range, PUT ?digest=), keeping the
// session URL and the SHA-256 state of what was sent in the layout's
// ResumeDir after every chunk, so that a later run asks the registry where
// the session stands (GET on it) and goes on from there.
type uploader struct {
	l      *layout.Layout
	dst    *Remote
	chunk  int64
	resume bool
	notify func(string)
}

// session is an upload in progress: the URL to send the next chunk to,
// how many bytes the registry holds, and the hash of the bytes before
// hashed (which catches up with off before each chunk).
type session struct {
	loc    string
	off    int64
	h      hash.Hash
	hashed int64
}

// upload sends desc's bytes from f in session s, or (s nil) in the
// session a previous run left if the registry still has it, or in a new
// one. It returns the offset it resumed at (bytes not sent again), and
// reports progress through add (bytes sent, and those resumed past).
func (u *uploader) upload(ctx context.Context, f *os.File, desc ocispec.Descriptor, s *session, add func(int64)) (int64, error) {
	ctx = auth.AppendRepositoryScope(ctx, u.dst.Repo.Reference, auth.ActionPull, auth.ActionPush)
	if s == nil {
		var err error
		if s, err = u.open(ctx, desc); err != nil {
			return 0, err
		}
	}
	resumed := s.off
	add(resumed)
	restarted := false
	failures := 0
	for {
		before := s.off
		err := u.send(ctx, f, desc, s, add)
		if err == nil {
			u.forget(desc)
			return resumed, nil
		}
		if errors.Is(err, errSessionGone) || errors.Is(err, errRegistryDigest) {
			if restarted {
				return 0, err
			}
			restarted = true
			u.note("%s: %v; starting the upload over", short(desc.Digest), err)
			u.forget(desc)
			resumed = 0
			if s, err = u.start(ctx, desc, nil); err != nil {
				return 0, err
			}
			continue
		}
		if !transient(ctx, err) {
			return 0, err
		}
		if s.off > before {
			failures = 0
		}
		if failures++; failures > maxFailures {
			return 0, fmt.Errorf("upload %s: giving up after %d failures (a re-run resumes at %d of %d): %w", desc.Digest, maxFailures, s.off, desc.Size, err)
		}
		if err := backoff(ctx, failures); err != nil {
			return 0, err
		}
		off, loc, serr := u.status(ctx, s.loc)
		switch {
		case errors.Is(serr, ErrNotFound):
			s.off = desc.Size + 1 // forces errSessionGone on the next send
		case errors.Is(serr, errUnsureOffset):
			// Nothing worth resuming: a new session, from byte 0.
			u.forget(desc)
			resumed = 0
			if s, err = u.start(ctx, desc, nil); err != nil {
				return 0, err
			}
		case serr == nil:
			s.loc, s.off = loc, off
		}
	}
}

// open resumes the session state recorded for desc, if the registry still
// knows it and holds more than its first byte, or starts a new one.
func (u *uploader) open(ctx context.Context, desc ocispec.Descriptor) (*session, error) {
	if u.resume {
		if st := loadUpload(u.l, u.dst, desc.Digest, desc.Size); st != nil {
			off, loc, err := u.status(ctx, st.Location)
			switch {
			case err == nil && off <= desc.Size:
				s := &session{loc: loc, off: off, h: sha256.New()}
				if st.Offset <= off && s.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.HashState) == nil {
					s.hashed = st.Offset
				} else {
					s.h.Reset()
				}
				if off > 0 {
					u.note("%s: resumed at %d of %d", short(desc.Digest), off, desc.Size)
				}
				return s, nil
			case errors.Is(err, ErrNotFound):
				u.note("%s: the registry no longer has the upload session of an earlier run; starting over", short(desc.Digest))
			case ctx.Err() != nil:
				return nil, ctx.Err()
			}
			u.forget(desc)
		}
	}
	return u.start(ctx, desc, nil)
}

// start opens a new upload session (POST). With mountFrom it asks for a
// cross-repository mount instead: nil session and nil error mean the
// registry mounted the blob.
func (u *uploader) start(ctx context.Context, desc ocispec.Descriptor, mountFrom *Reference) (*session, error) {
	target := u.dst.baseURL() + "/blobs/uploads/"
	if mountFrom != nil {
		target += "?" + url.Values{"mount": {desc.Digest.String()}, "from": {mountFrom.Repository}}.Encode()
		ctx = auth.AppendRepositoryScope(ctx, *mountFrom, auth.ActionPull)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := u.dst.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusCreated && mountFrom != nil:
		return nil, nil
	case resp.StatusCode != http.StatusAccepted:
		return nil, responseError(resp)
	}
	loc, err := location(resp)
	if err != nil {
		return nil, err
	}
	s := &session{loc: loc, h: sha256.New()}
	u.save(desc, s)
	return s, nil
}

// send PATCHes the chunks from s.off on, then PUTs ?digest= to finish.
func (u *uploader) send(ctx context.Context, f *os.File, desc ocispec.Descriptor, s *session, add func(int64)) error {
	if s.off > desc.Size {
		return errSessionGone
	}
	if err := s.catchUp(f, s.off); err != nil {
		return err
	}
	for s.off < desc.Size {
		n := min(u.chunk, desc.Size-s.off)
		if err := u.patch(ctx, f, s, n); err != nil {
			if s.off == 0 && refusesChunks(err) {
				u.note("%s: the registry refuses chunked uploads (%v); sending it whole, which cannot resume", short(desc.Digest), err)
				return u.finish(ctx, desc, s, f)
			}
			return err
		}
		add(n)
		u.save(desc, s)
	}
	if got := digest.NewDigest(digest.SHA256, s.h); got != desc.Digest {
		return fmt.Errorf("the layout's copy of %s hashes to %s: %w", desc.Digest, got, cas.ErrDigestMismatch)
	}
	return u.finish(ctx, desc, s, nil)
}

// patch sends the n bytes at s.off and moves s to where the registry says
// it now stands.
func (u *uploader) patch(ctx context.Context, f *os.File, s *session, n int64) error {
	off := s.off
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, s.loc, io.NewSectionReader(f, off, n))
	if err != nil {
		return err
	}
	req.ContentLength = n
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, off, n)), nil }
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
	resp, err := u.dst.Client.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return responseError(resp)
	}
	loc, err := location(resp)
	if err != nil {
		return err
	}
	held := off + n
	if last, ok := parseRange(resp.Header.Get("Range")); ok {
		held = last + 1
	}
	if held > off+n {
		return fmt.Errorf("PATCH %d-%d: registry says it holds %d bytes: %w", off, off+n-1, held, ErrProtocol)
	}
	// A registry that kept less than the chunk gets the rest next time.
	s.loc, s.off = loc, held
	return s.catchUp(f, held)
}

// finish completes the upload: PUT on the session URL with ?digest=,
// carrying the whole blob from whole when it is not nil (a registry
// without chunked uploads). A registry that finds another digest (bytes
// from an earlier, different session) gets errRegistryDigest, and the
// upload starts over once.
func (u *uploader) finish(ctx context.Context, desc ocispec.Descriptor, s *session, whole *os.File) error {
	lu, err := url.Parse(s.loc)
	if err != nil {
		return err
	}
	q := lu.Query()
	q.Set("digest", desc.Digest.String())
	lu.RawQuery = q.Encode()
	var body io.Reader
	if whole != nil {
		body = io.NewSectionReader(whole, 0, desc.Size)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, lu.String(), body)
	if err != nil {
		return err
	}
	if whole != nil {
		req.ContentLength = desc.Size
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(whole, 0, desc.Size)), nil }
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := u.dst.Client.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusCreated:
		if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != desc.Digest.String() {
			return fmt.Errorf("registry stored %s as %s: %w", desc.Digest, got, cas.ErrDigestMismatch)
		}
		return nil
	case resp.StatusCode == http.StatusBadRequest:
		return fmt.Errorf("%w: %w", errRegistryDigest, responseError(resp))
	case resp.StatusCode == http.StatusNotFound:
		return errSessionGone
	}
	return responseError(resp)
}

// status asks the registry how many bytes the session at loc holds (GET
// on the upload URL; the Range header's end + 1) and where to send the
// next chunk. "Range: 0-0" gets errUnsureOffset (see there).
func (u *uploader) status(ctx context.Context, loc string) (int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := u.dst.Client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return 0, "", responseError(resp)
	}
	last, ok := parseRange(resp.Header.Get("Range"))
	if !ok {
		return 0, "", fmt.Errorf("GET %s: no Range header in the upload status: %w", redact(loc), ErrProtocol)
	}
	if last == 0 {
		return 0, "", errUnsureOffset
	}
	next := loc
	if resp.Header.Get("Location") != "" {
		if next, err = location(resp); err != nil {
			return 0, "", err
		}
	}
	return last + 1, next, nil
}

func (u *uploader) save(desc ocispec.Descriptor, s *session) {
	if !u.resume || !u.dst.sameHost(s.loc) || s.hashed != s.off {
		return
	}
	st, err := s.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return
	}
	// Best effort: without the state a re-run starts this blob over.
	_ = saveState(u.l, uploadStateName(u.dst, desc.Digest), uploadState{
		Registry: u.dst.Ref.Registry, Repository: u.dst.Ref.Repository, Digest: desc.Digest, Size: desc.Size,
		Location: s.loc, Offset: s.off, HashState: st,
	})
}

func (u *uploader) forget(desc ocispec.Descriptor) {
	if u.resume {
		_ = u.l.RemoveState(uploadStateName(u.dst, desc.Digest))
	}
}

func (u *uploader) note(format string, args ...any) {
	if u.notify != nil {
		u.notify(fmt.Sprintf(format, args...))
	}
}

// catchUp hashes the blob's bytes up to off (from zero again if the hash
// is already past it).
func (s *session) catchUp(f *os.File, off int64) error {
	if s.hashed > off {
		s.h.Reset()
		s.hashed = 0
	}
	if s.hashed == off {
		return nil
	}
	n, err := io.CopyBuffer(s.h, io.NewSectionReader(f, s.hashed, off-s.hashed), make([]byte, 1<<20))
	s.hashed += n
	if err != nil {
		return fmt.Errorf("read the layout's blob: %w", err)
	}
	return nil
}
