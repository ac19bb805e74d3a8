package archive

import (
	"archive/tar"
	"context"
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// An export that carries signatures writes, on the header of its first
// blob after the documents (manifests, indexes and the signatures' own
// small blobs, which plan puts first), a PAX comment — a record every tar
// reader ignores — saying the documents are complete. Import calls
// ImportOptions.Documents there, before that blob is staged, so a gate can
// check signatures before the bulk of the archive is read. An archive
// without the mark (another tool's, or one whose mark was removed) is
// checked only at the end, by ImportOptions.Admit: the mark can make a
// refusal earlier, never an acceptance.
const (
	paxComment       = "comment"
	documentsDoneTag = "oci-pack: documents complete"
)

// signatureBlob reports whether n is a blob of a signature manifest (a
// bundle or a simple-signing payload): small JSON that export puts with
// the documents.
func signatureBlob(n *layout.Node) bool {
	return n.Parent != nil && n.Parent.Doc != nil && layout.IsSignature(n.Parent.Doc)
}

// markDocumentsDone marks the first blob after the documents when the plan
// holds signatures (nothing to mark otherwise: the plan's bytes stay as
// they were).
func (p *exportPlan) markDocumentsDone(signed bool) {
	if !signed {
		return
	}
	for i := range p.blobs {
		if p.blobs[i].class != classDocument {
			p.blobs[i].mark = true
			return
		}
	}
}

// withMark adds the documents-complete comment to h when b is marked.
func withMark(h *tar.Header, b planned) *tar.Header {
	if b.mark {
		h.PAXRecords = map[string]string{paxComment: documentsDoneTag}
	}
	return h
}

// docWatch collects the blobs an archive holds before its documents-done
// mark and calls the Documents hook once, at the mark.
type docWatch struct {
	fn    func(context.Context, []ocispec.Descriptor) error
	fired bool
	blobs []ocispec.Descriptor
}

// before runs before a blob entry is staged: at the mark, it calls the
// hook with the blobs that came before.
func (w *docWatch) before(ctx context.Context, h *tar.Header) error {
	if w == nil || w.fn == nil || w.fired || h.PAXRecords[paxComment] != documentsDoneTag {
		return nil
	}
	w.fired = true
	return w.fn(ctx, w.blobs)
}

// arrived records a blob entry that is now stored in the layout.
func (w *docWatch) arrived(d ocispec.Descriptor) {
	if w != nil && w.fn != nil && !w.fired {
		w.blobs = append(w.blobs, d)
	}
}

// TransferCheck is ImportOptions.Transfer: it is given an archive's
// sidecar (path, and the digest of the bytes import parsed; "" and "" when
// the archive has none) before the archive's first byte is read, and
// returns the digest its index.json must have ("" for no such demand) —
// a signed transfer names both.
type TransferCheck func(ctx context.Context, sidecar string, sidecarDigest digest.Digest) (index digest.Digest, err error)

// CheckTransfers runs check for each volume set before any is read, and
// records the index digest each must end with. Import runs it (with
// ImportOptions.Transfer) unless it passed already: a caller can run it
// first, before the target layout is opened or created, so that a transfer
// whose signature fails leaves no trace there. A nil check passes.
func (a *Archives) CheckTransfers(ctx context.Context, check TransferCheck) error {
	if check == nil || a.transfersChecked {
		return nil
	}
	for i, v := range a.sets {
		idx, err := check(ctx, v.sidecar, v.sidecarDigest)
		if err != nil {
			return err
		}
		a.srcs[i].Index = idx
	}
	a.transfersChecked = true
	return nil
}

// checkIndexDigest refuses an archive whose index.json is not the one a
// signed transfer names.
func checkIndexDigest(src Source, got digest.Digest) error {
	if src.Index == "" || src.Index == got {
		return nil
	}
	return fmt.Errorf("the archive's index.json is %s, but its signed transfer names %s: %w", got, src.Index, ErrInvalid)
}
