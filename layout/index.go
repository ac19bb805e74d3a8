package layout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// MaxDescriptors bounds the descriptors in one index or manifest (I8).
const MaxDescriptors = 100000

// Index reads and checks index.json. It never repairs: a torn or hostile
// index.json is an error wrapping ErrCorrupt, and an absent one wraps
// ErrNotLayout.
func (l *Layout) Index(ctx context.Context) (*ocispec.Index, error) {
	idx, _, err := l.readIndex()
	return idx, err
}

func (l *Layout) readIndex() (*ocispec.Index, []byte, error) {
	f, err := fsx.OpenRegular(l.root, IndexFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: missing %s: %w: %w", l.dir, IndexFile, ErrNotLayout, ErrCorrupt)
		}
		return nil, nil, corruptUnlessEnv(l.dir+"/"+IndexFile, err)
	}
	defer f.Close()
	b, err := strictjson.ReadAll(f, l.docBudget())
	if err != nil {
		return nil, nil, corruptUnlessEnv(l.dir+"/"+IndexFile, err)
	}
	idx, err := parseIndex(b, l.descBudget())
	if err != nil {
		hint := ""
		if errors.Is(err, strictjson.ErrInvalid) && bytes.Contains([]byte(err.Error()), []byte("unexpected end")) {
			hint = " (file truncated? another tool may have crashed while writing it)"
		}
		return nil, nil, fmt.Errorf("%s/%s: %v%s: %w", l.dir, IndexFile, err, hint, ErrCorrupt)
	}
	if len(b) > strictjson.MaxDocument {
		l.overBudget(IndexFile, int64(len(b)), strictjson.MaxDocument, "bytes")
	}
	if len(idx.Manifests) > MaxDescriptors {
		l.overBudget(IndexFile, int64(len(idx.Manifests)), MaxDescriptors, "entries")
	}
	return idx, b, nil
}

// ParseIndex decodes an index.json document strictly and checks what
// oci-pack relies on: schemaVersion 2, an index media type if any, valid
// descriptors, valid and unique tags. The same function judges index.json
// from a directory and from an archive (RELIABILITY A-8).
//
// Two things encoding/json would let through are refused, since gc would
// then see an empty index and delete every blob (B-20: never treat a bad
// index as empty): a key that names a field in the wrong case
// ("Manifests"; strictjson), and a missing or null "manifests".
func ParseIndex(b []byte) (*ocispec.Index, error) { return parseIndex(b, MaxDescriptors) }

// parseIndex is ParseIndex with a descriptor budget.
func parseIndex(b []byte, maxDescriptors int) (*ocispec.Index, error) {
	var idx ocispec.Index
	if err := strictjson.Unmarshal(b, &idx); err != nil {
		return nil, err
	}
	if err := checkIndex(&idx, true, maxDescriptors); err != nil {
		return nil, err
	}
	return &idx, nil
}

// checkIndex validates an index document; top says it is index.json,
// whose ref.name annotations are tags.
func checkIndex(idx *ocispec.Index, top bool, maxDescriptors int) error {
	if idx.SchemaVersion != 2 {
		return fmt.Errorf("schemaVersion %d, expected 2", idx.SchemaVersion)
	}
	if idx.Manifests == nil {
		return errors.New(`"manifests" missing or null, expected an array`)
	}
	if idx.MediaType != "" && idx.MediaType != ocispec.MediaTypeImageIndex && idx.MediaType != MediaTypeDockerManifestList {
		return fmt.Errorf("mediaType %q, expected %q", idx.MediaType, ocispec.MediaTypeImageIndex)
	}
	if len(idx.Manifests) > maxDescriptors {
		return fmt.Errorf("%d manifests exceed the limit of %d", len(idx.Manifests), maxDescriptors)
	}
	tags := map[string]ocispec.Descriptor{}
	for i, d := range idx.Manifests {
		if err := CheckDescriptor(d); err != nil {
			return fmt.Errorf("manifests[%d]: %w", i, err)
		}
		if !top {
			continue
		}
		name, ok := d.Annotations[ocispec.AnnotationRefName]
		if !ok {
			continue
		}
		if err := ValidateTag(name); err != nil {
			return fmt.Errorf("manifests[%d]: %w", i, err)
		}
		if prev, dup := tags[name]; dup {
			if prev.Digest != d.Digest {
				return fmt.Errorf("tag %q refers to both %s and %s", name, prev.Digest, d.Digest)
			}
			return fmt.Errorf("tag %q listed twice", name)
		}
		tags[name] = d
	}
	return nil
}

// CheckDescriptor validates a descriptor's digest and size.
func CheckDescriptor(d ocispec.Descriptor) error {
	if err := cas.Validate(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("%s: invalid descriptor size %d", d.Digest, d.Size)
	}
	return nil
}

// UpdateIndex is the one door through which index.json changes (I3, I4):
// exclusive index lock → re-read → fn → validate → budget → temp → fsync
// → rename → fsync dir. fn edits through the IndexEdit it is handed, which
// applies the layout's rules to every change; if fn returns an error, or
// leaves the document byte-identical, nothing is written. A result over
// the JSON budget every reader applies is refused before it is written
// (I14). Concurrent callers in any number of processes serialise and never
// lose each other's updates.
func (l *Layout) UpdateIndex(ctx context.Context, fn func(*IndexEdit) error) error {
	if l.staging == "" {
		return ErrReadOnly
	}
	lk, err := l.lockFile(ctx, ixLockFile, true, l.opts.LockTimeout, "index of layout "+l.dir)
	if err != nil {
		return err
	}
	defer lk.unlock()
	idx, old, err := l.readIndex()
	if err != nil {
		return err
	}
	entries := len(idx.Manifests)
	if err := fn(&IndexEdit{ctx: ctx, l: l, idx: idx, t: indexTable{idx: idx}}); err != nil {
		return err
	}
	if idx.MediaType == "" {
		idx.MediaType = ocispec.MediaTypeImageIndex
	}
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	if err := checkIndex(idx, true, math.MaxInt); err != nil { // the count: below
		return fmt.Errorf("refusing to write index.json: %w", err)
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("encode index.json: %w", err)
	}
	if bytes.Equal(b, old) {
		return nil
	}
	// The reader's budgets (allowance.go); under the repair allowance a
	// write that shrinks an over-budget index.json is let through.
	shrinks := l.opts.Repair && len(b) < len(old) && len(idx.Manifests) <= entries
	if len(b) > strictjson.MaxDocument && !shrinks {
		return fmt.Errorf("%w: refusing to write index.json of %d bytes, over the %d-byte limit every reader sets (%d entries, was %d bytes): untag or gc first, or keep fewer tags per layout", ErrInvalidArgument, len(b), strictjson.MaxDocument, len(idx.Manifests), len(old))
	}
	if len(idx.Manifests) > MaxDescriptors && !shrinks {
		return fmt.Errorf("%w: refusing to write index.json of %d entries, over the %d every reader allows: untag first, or keep fewer tags per layout", ErrInvalidArgument, len(idx.Manifests), MaxDescriptors)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.replaceFile(ctx, IndexFile, b)
}

// replaceFile atomically replaces name (in the layout root) with content;
// the rename is ctx's commit point.
// The new file keeps the old one's permission bits, whatever the umask
// (class 8: under umask 077 index.json would otherwise turn 0600, and
// other users' readers would fail on it).
func (l *Layout) replaceFile(ctx context.Context, name string, content []byte) error {
	tmp := path.Join(l.staging, name+"-"+randomSuffix())
	perm := fs.FileMode(0)
	if fi, err := l.root.Lstat(name); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
	if err := writeSynced(l.root, tmp, content, perm); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	// The rename is the commit point (Commit): readers see the new file.
	if err := Commit(ctx, func() error { return l.root.Rename(tmp, name) }); err != nil {
		l.root.Remove(tmp)
		return fmt.Errorf("replace %s: %w", name, err)
	}
	if err := fsx.SyncDir(l.root, "."); err != nil {
		return fmt.Errorf("fsync %s after replacing %s: %w", l.dir, name, err)
	}
	return nil
}

// isNotExist is errors.Is(err, fs.ErrNotExist) for brevity.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
