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

// indexTable edits an index's entries with lookups by tag and by digest
// that stay linear in the number of entries however many edits one update
// makes (an import of 100,000 tags). The maps are built on first use and
// dropped when an entry is removed.
type indexTable struct {
	idx     *ocispec.Index
	byTag   map[string]int // tag → position in idx.Manifests
	listed  map[digest.Digest]bool
	indexed bool
}

func (t *indexTable) build() {
	if t.indexed {
		return
	}
	t.byTag = make(map[string]int, len(t.idx.Manifests))
	t.listed = make(map[digest.Digest]bool, len(t.idx.Manifests))
	for i, d := range t.idx.Manifests {
		if name, ok := d.Annotations[ocispec.AnnotationRefName]; ok {
			t.byTag[name] = i
		}
		t.listed[d.Digest] = true
	}
	t.indexed = true
}

// lookup returns the entry tagged name.
func (t *indexTable) lookup(name string) (ocispec.Descriptor, bool) {
	t.build()
	i, ok := t.byTag[name]
	if !ok {
		return ocispec.Descriptor{}, false
	}
	return t.idx.Manifests[i], true
}

// setTag points tag name at desc (desc's own annotations are kept,
// ref.name is set). An existing tag on the same digest is left alone; on
// another digest, policy decides. It checks only the grammar: IndexEdit.Tag
// applies the other rules.
func (t *indexTable) setTag(name string, desc ocispec.Descriptor, policy Conflict) (TagChange, error) {
	if err := ValidateTag(name); err != nil {
		return TagChange{}, err
	}
	t.build()
	ch := TagChange{Name: name, New: desc.Digest}
	i, ok := t.byTag[name]
	if !ok {
		t.idx.Manifests = append(t.idx.Manifests, withRefName(desc, name))
		t.byTag[name] = len(t.idx.Manifests) - 1
		t.listed[desc.Digest] = true
		return ch, nil
	}
	d := t.idx.Manifests[i]
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
	t.idx.Manifests[i] = withRefName(desc, name)
	t.indexed = false // the old digest may no longer be listed
	return ch, nil
}

// removeTag deletes tag name, reporting what it named and whether it was
// there.
func (t *indexTable) removeTag(name string) (ocispec.Descriptor, bool) {
	t.build()
	i, ok := t.byTag[name]
	if !ok {
		return ocispec.Descriptor{}, false
	}
	d := t.idx.Manifests[i]
	t.idx.Manifests = append(t.idx.Manifests[:i], t.idx.Manifests[i+1:]...)
	t.indexed = false
	return d, true
}

// removeIf deletes every entry drop reports, in one pass, and returns
// how many went.
func (t *indexTable) removeIf(drop func(ocispec.Descriptor) bool) int {
	kept := t.idx.Manifests[:0]
	for _, d := range t.idx.Manifests {
		if !drop(d) {
			kept = append(kept, d)
		}
	}
	n := len(t.idx.Manifests) - len(kept)
	clear(t.idx.Manifests[len(kept):])
	t.idx.Manifests = kept
	if n > 0 {
		t.indexed = false
	}
	return n
}

// addUntagged lists desc without a tag unless its digest is listed
// already (the way referrers are kept reachable), reporting whether it
// added an entry.
func (t *indexTable) addUntagged(desc ocispec.Descriptor) bool {
	t.build()
	if t.listed[desc.Digest] {
		return false
	}
	desc.Annotations = withoutRefName(desc.Annotations)
	t.idx.Manifests = append(t.idx.Manifests, desc)
	t.listed[desc.Digest] = true
	return true
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
