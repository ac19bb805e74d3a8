package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// checkpointEvery is how many bytes a resumable download stages between
// checkpoints (an fsync and a state file each).
const checkpointEvery = 32 << 20

// downloader fetches blobs into the layout through cas: a resumable
// staging file under the layout's ResumeDir (kept, with its checkpoint,
// when the transfer is cut short) or, when another process holds that,
// plain staging. Every blob is verified against its descriptor by
// Commit before it appears under blobs/.
type downloader struct {
	l      *layout.Layout
	src    *Remote
	resume bool
	notify func(string)
}

// fetch stores desc unless the layout has it. It returns the offset it
// resumed at and whether the blob was already stored.
func (d *downloader) fetch(ctx context.Context, desc ocispec.Descriptor, add func(int64)) (resumed int64, reused bool, err error) {
	if ok, err := d.l.Blobs().Has(ctx, desc); err != nil {
		return 0, false, err
	} else if ok {
		return 0, true, nil
	}
	ctx = auth.AppendRepositoryScope(ctx, d.src.Repo.Reference, auth.ActionPull)
	w, resumable, err := d.writer(ctx, desc)
	if err != nil {
		return 0, false, err
	}
	resumed = w.Size()
	if resumed > 0 {
		d.note("%s: resumed at %d of %d", short(desc.Digest), resumed, desc.Size)
	}
	add(resumed)
	failures := 0
	for w.Size() < desc.Size || desc.Size == 0 {
		before := w.Size()
		err = d.get(ctx, desc, w, resumable, add)
		if err == nil {
			break
		}
		if !transient(ctx, err) || errors.Is(err, cas.ErrSizeMismatch) {
			break
		}
		if w.Size() > before {
			failures = 0
		}
		if failures++; failures > maxFailures {
			err = fmt.Errorf("giving up after %d failures (a re-run resumes at %d of %d): %w", maxFailures, w.Size(), desc.Size, err)
			break
		}
		if err = backoff(ctx, failures); err != nil {
			break
		}
	}
	if err != nil {
		if resumable && !errors.Is(err, cas.ErrSizeMismatch) && !errors.Is(err, cas.ErrDigestMismatch) {
			d.checkpoint(desc, w)
			w.Suspend()
		} else {
			d.forget(desc)
			w.Abort()
		}
		return 0, false, fmt.Errorf("pull %s: %w", desc.Digest, err)
	}
	_, err = w.Commit(ctx)
	d.forget(desc)
	if err != nil {
		return 0, false, fmt.Errorf("pull %s from %s: %w", desc.Digest, d.src.Ref.Registry, err)
	}
	return resumed, false, nil
}

// writer opens the resumable staging for desc (resuming at the recorded
// checkpoint if the partial file still matches it), or plain staging.
func (d *downloader) writer(ctx context.Context, desc ocispec.Descriptor) (*cas.Writer, bool, error) {
	expected := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	if d.resume {
		f, rel, ok, err := d.l.OpenPartial(partialName(desc.Digest))
		if err != nil {
			return nil, false, err
		}
		if ok {
			var cp cas.Checkpoint
			if st := loadDownload(d.l, desc.Digest, desc.Size); st != nil {
				cp = cas.Checkpoint{Offset: st.Offset, State: st.HashState}
			}
			w, err := d.l.Blobs().ResumeWriter(ctx, expected, f, rel, cp)
			if err != nil {
				f.Close()
				return nil, false, err
			}
			return w, true, nil
		}
	}
	w, err := d.l.Blobs().Writer(ctx, expected)
	return w, false, err
}

// get requests the blob from w.Size() on (a Range request when resuming)
// and copies the answer into w, checkpointing as it goes.
func (d *downloader) get(ctx context.Context, desc ocispec.Descriptor, w *cas.Writer, resumable bool, add func(int64)) error {
	off := w.Size()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.src.baseURL()+"/blobs/"+desc.Digest.String(), nil)
	if err != nil {
		return err
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := d.src.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength >= 0 && resp.ContentLength != desc.Size {
			return fmt.Errorf("registry sends %d bytes for %s, the descriptor says %d: %w", resp.ContentLength, desc.Digest, desc.Size, cas.ErrSizeMismatch)
		}
		if dg := resp.Header.Get("Docker-Content-Digest"); dg != "" && dg != desc.Digest.String() {
			return fmt.Errorf("registry sends %s as %s: %w", desc.Digest, dg, cas.ErrDigestMismatch)
		}
		if off > 0 {
			// The Range was ignored: skip what is staged already.
			if _, err := io.CopyN(io.Discard, body, off); err != nil {
				return err
			}
		}
	case http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != off {
			return fmt.Errorf("asked for %s from byte %d, got Content-Range %q: %w", desc.Digest, off, resp.Header.Get("Content-Range"), ErrProtocol)
		}
	default:
		return responseError(resp)
	}
	buf := make([]byte, 1<<20)
	next := off + checkpointEvery
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			add(int64(n))
			if resumable && w.Size() >= next {
				d.checkpoint(desc, w)
				next = w.Size() + checkpointEvery
			}
		}
		if rerr == io.EOF {
			if w.Size() < desc.Size {
				return fmt.Errorf("registry sent %d of the %d bytes of %s: %w", w.Size(), desc.Size, desc.Digest, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// checkpoint records how far w got (best effort: without it a re-run
// starts the blob over).
func (d *downloader) checkpoint(desc ocispec.Descriptor, w *cas.Writer) {
	cp, err := w.Checkpoint()
	if err != nil || cp.Offset == 0 {
		return
	}
	_ = saveState(d.l, downloadStateName(desc.Digest), downloadState{Digest: desc.Digest, Size: desc.Size, Offset: cp.Offset, HashState: cp.State})
}

func (d *downloader) forget(desc ocispec.Descriptor) {
	if d.resume {
		_ = d.l.RemoveState(downloadStateName(desc.Digest))
	}
}

func (d *downloader) note(format string, args ...any) {
	if d.notify != nil {
		d.notify(fmt.Sprintf(format, args...))
	}
}

// contentRangeStart reads the first byte position of "bytes START-END/SIZE".
func contentRangeStart(v string) (int64, bool) {
	v, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(v, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil && n >= 0
}
