package cas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/singleflight"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// Store holds blobs under <root>/blobs/<alg>/<hex>. All file access goes
// through an os.Root on the layout directory, so no digest, symlink or
// staging name can reach outside it.
//
// A Store is safe for concurrent use by many goroutines. Safety between
// processes (gc against writers) is the caller's job: see package layout.
type Store struct {
	root    *os.Root
	dir     string // the layout directory, for messages
	staging string // staging directory relative to root; "" disables writes
	records string // verified-fingerprint records relative to root; "" keeps none

	checks   singleflight.Group // one re-hash per digest at a time (Check)
	bad      sync.Map           // digest → badBlob: found corrupt at that fingerprint
	onRepair func(Repair)
}

// Info describes one stored blob.
type Info struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	// Links is the blob file's hard-link count (Stat only). More than 1
	// means another name can change the blob's bytes behind the store
	// (RELIABILITY B-23): Verify warns.
	Links uint64 `json:"-"`
}

// Options configure a Store.
type Options struct {
	// Staging is the directory, relative to the layout directory, where
	// this process stages new blobs (it must already exist and belong to
	// this process); "" makes the store read-only.
	Staging string
	// Records is the directory, relative to the layout directory, of the
	// verified-fingerprint records (see Check); "" keeps none, so every
	// trust check re-hashes.
	Records string
}

// Open returns a Store on the layout directory dir staging in staging (see
// Options), keeping no verified-fingerprint records.
func Open(dir, staging string) (*Store, error) {
	return OpenWith(dir, Options{Staging: staging})
}

// OpenWith returns a Store on the layout directory dir.
func OpenWith(dir string, o Options) (*Store, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	return &Store{root: r, dir: dir, staging: o.Staging, records: o.Records}, nil
}

// Close releases the store's directory handle.
func (s *Store) Close() error { return s.root.Close() }

// Dir returns the layout directory the store was opened on.
func (s *Store) Dir() string { return s.dir }

// Root returns the os.Root the store reads and writes through.
func (s *Store) Root() *os.Root { return s.root }

// Stat reports the size of blob d. It fails with ErrNotFound when absent and
// ErrNotRegular when the path is anything but a regular file (I6).
func (s *Store) Stat(ctx context.Context, d digest.Digest) (Info, error) {
	p, err := BlobPath(d)
	if err != nil {
		return Info{}, err
	}
	fi, err := s.root.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("%s: %w", d, ErrNotFound)
		}
		return Info{}, fmt.Errorf("stat blob %s: %w", d, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s: %w (%s)", p, ErrNotRegular, fsx.FileKind(fi.Mode()))
	}
	return Info{Digest: d, Size: fi.Size(), Links: fsx.LinkCount(fi)}, nil
}

// Open opens blob d for reading. Only regular files are opened: a symlink,
// FIFO or device under a blob name fails with ErrNotRegular without being
// followed or blocking (B-23).
func (s *Store) Open(ctx context.Context, d digest.Digest) (*os.File, error) {
	p, err := BlobPath(d)
	if err != nil {
		return nil, err
	}
	f, err := fsx.OpenRegular(s.root, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", d, ErrNotFound)
		}
		return nil, err
	}
	return f, nil
}

// OpenVerified opens desc and returns a reader that fails with
// ErrSizeMismatch or ErrDigestMismatch at EOF if the bytes are not exactly
// what desc promises. Callers must read to EOF to get the check.
func (s *Store) OpenVerified(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	f, err := s.Open(ctx, desc.Digest)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat blob %s: %w", desc.Digest, err)
	}
	return &verifiedFile{VerifyReader: NewVerifyReader(f, desc), f: f, s: s, d: desc.Digest, opened: fi}, nil
}

// verifiedFile is OpenVerified's reader: a read to EOF that proves the
// bytes renews the blob's verified-fingerprint record.
type verifiedFile struct {
	*VerifyReader
	f      *os.File
	s      *Store
	d      digest.Digest
	opened os.FileInfo
}

func (v *verifiedFile) Read(p []byte) (int, error) {
	n, err := v.VerifyReader.Read(p)
	if err == io.EOF && v.opened != nil {
		v.s.verifiedAt(v.d, v.opened, v.f)
		v.opened = nil
	}
	return n, err
}

func (v *verifiedFile) Close() error { return v.f.Close() }

// Delete removes blob d. Deleting an absent blob is not an error.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	p, err := BlobPath(d)
	if err != nil {
		return err
	}
	if fi, err := s.root.Lstat(p); err == nil {
		if fp, ok := FingerprintOf(fi); ok {
			s.forget(d, fp)
		}
	}
	if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return nil
}

// Walk calls fn for every validly named regular file under blobs/<alg>/,
// in directory order. Entries with invalid names are passed to bad (if not
// nil) as slash paths relative to the layout root, never as digests.
func (s *Store) Walk(ctx context.Context, fn func(Info) error, bad func(rel string, reason string) error) error {
	algs, err := readDirNames(s.root, "blobs")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("walk blobs: %w", err)
	}
	for _, alg := range algs {
		dir := path.Join("blobs", alg)
		entries, err := readDir(s.root, dir)
		if err != nil {
			if bad != nil {
				if err := bad(dir, err.Error()); err != nil {
					return err
				}
			}
			continue
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			rel := path.Join(dir, e.Name())
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg), e.Name())
			if Validate(d) != nil {
				if bad != nil {
					if err := bad(rel, "not a valid digest name"); err != nil {
						return err
					}
				}
				continue
			}
			if !e.Type().IsRegular() {
				if bad != nil {
					if err := bad(rel, "not a regular file ("+fsx.FileKind(e.Type())+")"); err != nil {
						return err
					}
				}
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted under us
				}
				return fmt.Errorf("walk blobs: %w", err)
			}
			if err := fn(Info{Digest: d, Size: fi.Size()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func readDirNames(r *os.Root, dir string) ([]string, error) {
	entries, err := readDir(r, dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func readDir(r *os.Root, dir string) ([]fs.DirEntry, error) {
	fi, err := r.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory (%s)", dir, fsx.FileKind(fi.Mode()))
	}
	f, err := r.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}
