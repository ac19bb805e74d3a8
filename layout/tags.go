package layout

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxTagLength bounds a tag. The ref.name grammar has no limit; file
// systems and registries do.
const MaxTagLength = 255

// isRefName reports whether name is in the org.opencontainers.image.ref.name
// grammar of image-spec annotations.md:
//
//	ref       ::= component ("/" component)*
//	component ::= alphanum (separator alphanum)*
//	alphanum  ::= [A-Za-z0-9]+
//	separator ::= [-._:@+] | "--"
//
// Hand-written rather than a regular expression: index.json may hold
// 100,000 tags, each checked on every read.
func isRefName(name string) bool {
	// prev: 'a' after an alphanumeric, 's' after a separator (or start of
	// a component), '-' after a first '-' that may become "--".
	prev := byte('s')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			prev = 'a'
		case c == '-' && prev == '-':
			prev = 's' // "--"
		case prev != 'a':
			return false
		case c == '-':
			prev = '-'
		case c == '.', c == '_', c == ':', c == '@', c == '+', c == '/':
			prev = 's'
		default:
			return false
		}
	}
	return prev == 'a'
}

// ValidateTag checks name against the ref.name grammar (RELIABILITY A-13).
// The error quotes the name, so control characters show escaped.
func ValidateTag(name string) error {
	if len(name) > MaxTagLength {
		return fmt.Errorf("%w %.40q…: %d bytes, limit %d", ErrInvalidTag, name, len(name), MaxTagLength)
	}
	if !isRefName(name) {
		return fmt.Errorf("%w %q: not in the ref.name grammar (letters and digits joined by one of -._:@+ or --, components separated by /)", ErrInvalidTag, name)
	}
	return nil
}

// Tag is one tagged entry of index.json.
type Tag struct {
	Name       string
	Descriptor ocispec.Descriptor
}

// Tags lists idx's tags in index order.
func Tags(idx *ocispec.Index) []Tag {
	var out []Tag
	for _, d := range idx.Manifests {
		if name, ok := d.Annotations[ocispec.AnnotationRefName]; ok {
			out = append(out, Tag{Name: name, Descriptor: d})
		}
	}
	return out
}

// FindTag returns the descriptor tagged name in idx.
func FindTag(idx *ocispec.Index, name string) (ocispec.Descriptor, bool) {
	for _, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == name {
			return d, true
		}
	}
	return ocispec.Descriptor{}, false
}

// Conflict says what SetTag does when the tag names another digest.
type Conflict int

const (
	ConflictFail      Conflict = iota // ErrTagExists
	ConflictSkip                      // keep the old target
	ConflictOverwrite                 // move the tag
)

// ParseConflict parses the --tag-conflict values fail, skip, overwrite.
func ParseConflict(s string) (Conflict, error) {
	switch s {
	case "fail":
		return ConflictFail, nil
	case "skip":
		return ConflictSkip, nil
	case "overwrite":
		return ConflictOverwrite, nil
	}
	return 0, fmt.Errorf("invalid tag conflict policy %q: want fail, skip or overwrite", s)
}

// TagChange reports what SetTag did.
type TagChange struct {
	Name    string
	Old     digest.Digest // "" if the tag is new
	New     digest.Digest
	Skipped bool // the tag existed and the policy kept it
}

// setTag points tag name at desc inside idx (desc's own annotations are
// kept, ref.name is set). An existing tag on the same digest is left
// alone; on another digest, policy decides. It checks only the grammar:
// IndexEdit.Tag applies the other rules.
func setTag(idx *ocispec.Index, name string, desc ocispec.Descriptor, policy Conflict) (TagChange, error) {
	if err := ValidateTag(name); err != nil {
		return TagChange{}, err
	}
	ch := TagChange{Name: name, New: desc.Digest}
	for i, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] != name {
			continue
		}
		ch.Old = d.Digest
		if d.Digest == desc.Digest {
			return ch, nil
		}
		switch policy {
		case ConflictSkip:
			ch.Skipped = true
			return ch, nil
		case ConflictFail:
			return ch, fmt.Errorf("tag %q exists in layout with %s (wanted %s): %w", name, d.Digest, desc.Digest, ErrTagExists)
		}
		idx.Manifests[i] = withRefName(desc, name)
		return ch, nil
	}
	idx.Manifests = append(idx.Manifests, withRefName(desc, name))
	return ch, nil
}

// removeTag deletes tag name from idx, reporting whether it was there.
func removeTag(idx *ocispec.Index, name string) (ocispec.Descriptor, bool) {
	for i, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == name {
			idx.Manifests = append(idx.Manifests[:i], idx.Manifests[i+1:]...)
			return d, true
		}
	}
	return ocispec.Descriptor{}, false
}

// addUntagged lists desc in idx without a tag unless it is already listed
// (the way referrers are kept reachable).
func addUntagged(idx *ocispec.Index, desc ocispec.Descriptor) {
	for _, d := range idx.Manifests {
		if d.Digest == desc.Digest {
			return
		}
	}
	desc.Annotations = withoutRefName(desc.Annotations)
	idx.Manifests = append(idx.Manifests, desc)
}

func withRefName(desc ocispec.Descriptor, name string) ocispec.Descriptor {
	ann := make(map[string]string, len(desc.Annotations)+1)
	for k, v := range desc.Annotations {
		ann[k] = v
	}
	ann[ocispec.AnnotationRefName] = name
	desc.Annotations = ann
	return desc
}

func withoutRefName(in map[string]string) map[string]string {
	if _, ok := in[ocispec.AnnotationRefName]; !ok {
		return in
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if k != ocispec.AnnotationRefName {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Tag points name at desc, which must be stored, under policy. It is a
// single UpdateIndex.
func (l *Layout) Tag(ctx context.Context, name string, desc ocispec.Descriptor, policy Conflict) (TagChange, error) {
	chs, err := l.TagAll(ctx, desc, policy, name)
	if err != nil {
		return TagChange{}, err
	}
	return chs[0], nil
}

// TagAll points every one of names at desc, which must be stored, under
// policy, in a single UpdateIndex: either every tag changes or, on any
// error (a conflict on the last name included), none does (I5). names
// must not be empty.
func (l *Layout) TagAll(ctx context.Context, desc ocispec.Descriptor, policy Conflict, names ...string) ([]TagChange, error) {
	var chs []TagChange
	err := l.UpdateIndex(ctx, func(e *IndexEdit) error {
		chs = chs[:0]
		for _, name := range names {
			ch, err := e.Tag(name, desc, policy)
			if err != nil {
				return err
			}
			chs = append(chs, ch)
		}
		return nil
	})
	return chs, err
}

// Untag removes tags. Blobs are never deleted (gc does that). Every name is
// checked first; an unknown tag fails the whole call with ErrTagNotFound.
func (l *Layout) Untag(ctx context.Context, names ...string) ([]Tag, error) {
	var removed []Tag
	err := l.UpdateIndex(ctx, func(e *IndexEdit) error {
		removed = nil
		for _, n := range names {
			d, ok := e.Untag(n)
			if !ok {
				return fmt.Errorf("tag %q: %w in %s", n, ErrTagNotFound, l.dir)
			}
			removed = append(removed, Tag{Name: n, Descriptor: d})
		}
		return nil
	})
	return removed, err
}
