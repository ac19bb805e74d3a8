package layout

import (
	"context"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IndexEdit is a change to index.json in progress. UpdateIndex hands one to
// its callback, and it is the only way index.json changes: its methods
// apply the layout's rules to every edit, so no caller can break them —
//
//   - a tag is in the ref.name grammar and not of the reserved referrers
//     form sha256-<hex> (CheckUserTag);
//   - every entry names a blob the layout stores, with the right size;
//   - a referrer is listed untagged (oras finds it there, gc keeps it) and
//     in its subject's sha256-<hex> referrers index (regctl and registries
//     without the referrers API look there), kept up to date here as
//     oras-go's and regclient's OCI stores do on every push.
//
// An IndexEdit is valid only inside the callback it was handed to.
type IndexEdit struct {
	ctx context.Context
	l   *Layout
	idx *ocispec.Index
	t   indexTable
	// stored remembers descriptors checkStored found stored in this edit.
	stored map[storedKey]bool
}

// Manifests returns a copy of the entries of index.json as edited so far.
func (e *IndexEdit) Manifests() []ocispec.Descriptor { return slices.Clone(e.idx.Manifests) }

// Lookup returns the entry tagged name.
func (e *IndexEdit) Lookup(name string) (ocispec.Descriptor, bool) { return e.t.lookup(name) }

// Tag points tag name at desc under policy: an existing tag on the same
// digest is left alone, one on another digest fails (ErrTagExists), stays
// (ConflictSkip) or moves (ConflictOverwrite). desc's own annotations are
// kept and ref.name set. The name must pass CheckUserTag and desc must be
// stored.
func (e *IndexEdit) Tag(name string, desc ocispec.Descriptor, policy Conflict) (TagChange, error) {
	if err := CheckUserTag(name); err != nil {
		return TagChange{}, err
	}
	if err := e.checkStored(desc, fmt.Sprintf("tag %q", name)); err != nil {
		return TagChange{}, err
	}
	return e.t.setTag(name, desc, policy)
}

// Untag removes tag name, reporting what it named and whether it was
// there. The blobs stay (gc removes what nothing reaches any more).
func (e *IndexEdit) Untag(name string) (ocispec.Descriptor, bool) { return e.t.removeTag(name) }

// RemoveUntagged removes the untagged entry listing d, reporting whether
// there was one (tags go through Untag). The blobs stay: gc removes what
// nothing reaches any more.
func (e *IndexEdit) RemoveUntagged(d digest.Digest) bool {
	done := false
	return e.t.removeIf(func(m ocispec.Descriptor) bool {
		_, tagged := m.Annotations[ocispec.AnnotationRefName]
		if done || tagged || m.Digest != d {
			return false
		}
		done = true
		return true
	}) > 0
}

// AddUntagged lists desc, which must be stored, without a tag, unless
// index.json lists its digest already.
func (e *IndexEdit) AddUntagged(desc ocispec.Descriptor) error {
	if err := e.checkStored(desc, "untagged entry"); err != nil {
		return err
	}
	e.t.addUntagged(desc)
	return nil
}

// Len is the number of entries of index.json as edited so far.
func (e *IndexEdit) Len() int { return len(e.idx.Manifests) }

// AddReferrers records manifests (or indexes) that are, or may be,
// referrers: each is listed untagged, and each that has a subject joins
// that subject's sha256-<hex> referrers index, which is rewritten with the
// union of its old and new members. A descriptor without a subject is only
// listed. Every descriptor must be stored.
func (e *IndexEdit) AddReferrers(descs ...ocispec.Descriptor) error {
	for _, d := range descs {
		if err := e.AddUntagged(d); err != nil {
			return err
		}
	}
	return e.linkReferrers(descs)
}

// checkStored refuses an entry whose blob the layout does not hold with
// the descriptor's size: index.json never names what is not there.
func (e *IndexEdit) checkStored(desc ocispec.Descriptor, what string) error {
	if err := CheckDescriptor(desc); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	key := storedKey{desc.Digest, desc.Size}
	if e.stored[key] {
		return nil
	}
	ok, err := e.l.blobs.Has(e.ctx, desc)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %s is not stored with size %d: %w", what, desc.Digest, desc.Size, ErrMissingBlob)
	}
	if e.stored == nil {
		e.stored = map[storedKey]bool{}
	}
	e.stored[key] = true
	return nil
}

// CheckUserTag checks a tag a caller asks for: the ref.name grammar
// (ValidateTag), and not of the form sha256-<64 hex>, which the referrers
// tag schema reserves for the index of a subject's referrers (the layout
// maintains those itself; ls hides them). Errors wrap ErrInvalidTag.
func CheckUserTag(name string) error {
	if err := ValidateTag(name); err != nil {
		return err
	}
	if IsReferrersTag(name) {
		return fmt.Errorf("%w %q: reserved: a name of the form sha256-<digest hex> holds the referrers of that digest, which the layout maintains itself", ErrInvalidTag, name)
	}
	return nil
}

// AddReferrers records descs as referrers in one index update (see
// IndexEdit.AddReferrers).
func (l *Layout) AddReferrers(ctx context.Context, descs ...ocispec.Descriptor) error {
	return l.UpdateIndex(ctx, func(e *IndexEdit) error { return e.AddReferrers(descs...) })
}

// CheckTagFree reports, without changing anything, whether tagging desc as
// name under policy would succeed now: the name passes CheckUserTag and,
// under ConflictFail, the tag is absent or names desc's digest already
// (desc may be zero when the digest is not known yet: then only absence
// passes). Writers call it before hours of work; IndexEdit.Tag checks
// again under the lock.
func (l *Layout) CheckTagFree(ctx context.Context, name string, desc ocispec.Descriptor, policy Conflict) error {
	if err := CheckUserTag(name); err != nil {
		return err
	}
	if policy != ConflictFail {
		return nil
	}
	idx, err := l.Index(ctx)
	if err != nil {
		return err
	}
	if old, ok := FindTag(idx, name); ok && old.Digest != desc.Digest {
		return fmt.Errorf("tag %q exists in layout with %s: %w", name, old.Digest, ErrTagExists)
	}
	return nil
}

// storedKey is what checkStored checks: a digest stored with a size.
type storedKey struct {
	digest digest.Digest
	size   int64
}
