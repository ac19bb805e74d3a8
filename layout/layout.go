package layout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// Paths inside a layout directory.
const (
	LayoutFile = "oci-layout"
	IndexFile  = "index.json"
	BlobsDir   = "blobs"
	// PrivateDir holds oci-pack's own state; other tools ignore it.
	PrivateDir = ".oci-pack"
	gcLockFile = PrivateDir + "/gc.lock"
	ixLockFile = PrivateDir + "/index.lock"
	stagingDir = PrivateDir + "/tmp"
	// verifiedDir holds the blobs' verified-fingerprint records
	// (RELIABILITY I6; see cas.Check).
	verifiedDir = PrivateDir + "/verified"
	// LayoutVersion is the imageLayoutVersion written and accepted.
	LayoutVersion = "1.0.0"
)

// Mode says what a command will do with a layout, and so which locks it
// holds (RELIABILITY I4).
type Mode int

const (
	// ReadOnly commands hold the gc lock shared, so gc cannot delete what
	// they read. On a read-only filesystem they run unlocked.
	ReadOnly Mode = iota
	// ReadWrite commands also hold the gc lock shared and get a private
	// staging directory for new blobs and index.json temp files.
	ReadWrite
	// Exclusive is gc: the gc lock is held exclusively, so no other
	// oci-pack process is reading, staging or changing the layout.
	Exclusive
)

// Options configure Open.
type Options struct {
	Mode Mode
	// LockTimeout bounds every wait for a lock; < 0 waits forever, 0
	// fails at once if the lock is busy.
	LockTimeout time.Duration
	// Create initialises the layout if dir does not hold one (pack, import).
	Create bool
	// Context, if not nil, cuts short Open's wait for the layout lock (a
	// signal must not wait out --lock-timeout).
	Context context.Context
	// Repair reads index.json and documents with RepairAllowance times
	// their budgets, so that a layout over a budget can be brought back
	// (untag, gc, verify); see allowance.go.
	Repair bool
	// Notify, if not nil, is told when the repair allowance was needed.
	Notify func(string)
	// Waiting, if not nil, is told once per wait, as a lock is found busy
	// and the wait begins (LockTimeout != 0): what is locked, and who
	// holds it ("pid 1234 (oci-pack pack)", where the platform tells).
	Waiting func(what string, holders []string)
}

func (o Options) context() context.Context {
	if o.Context == nil {
		return context.Background()
	}
	return o.Context
}

// Layout is an open OCI image layout. Close it to release its locks and
// staging directory.
type Layout struct {
	dir     string
	root    *os.Root
	blobs   *cas.Store
	opts    Options
	gcLock  *fileLock
	stLock  *fileLock
	staging string // relative to dir; "" when read-only
	told    overBudgetNotes
}

// Init creates an empty layout in dir (and dir itself), or checks that dir
// already holds one: it is idempotent. A non-empty directory that is not a
// layout is refused rather than filled.
func Init(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create layout %s: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open layout %s: %w", dir, err)
	}
	defer r.Close()
	if _, err := r.Lstat(LayoutFile); err == nil {
		return checkLayoutFile(r, dir)
	}
	entries, err := readDirAll(r, ".")
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		// What a concurrent (or interrupted) Init creates does not count.
		switch e.Name() {
		case PrivateDir, BlobsDir, IndexFile:
		case LayoutFile:
			return checkLayoutFile(r, dir)
		default:
			return fmt.Errorf("refusing to initialise %s: directory is not empty and has no %s: %w", dir, LayoutFile, ErrNotLayout)
		}
	}
	if err := r.MkdirAll(path.Join(BlobsDir, "sha256"), 0o755); err != nil {
		return fmt.Errorf("create %s/blobs: %w", dir, err)
	}
	if err := r.MkdirAll(stagingDir, 0o755); err != nil {
		return fmt.Errorf("create %s/%s: %w", dir, stagingDir, err)
	}
	// index.json first, then oci-layout: a layout is only recognised once
	// both exist. Each is created atomically and only if absent, so
	// concurrent Inits agree.
	if err := createIfAbsent(r, IndexFile, []byte(emptyIndexJSON)); err != nil {
		return fmt.Errorf("create %s/%s: %w", dir, IndexFile, err)
	}
	if err := createIfAbsent(r, LayoutFile, []byte(`{"imageLayoutVersion":"`+LayoutVersion+`"}`)); err != nil {
		return fmt.Errorf("create %s/%s: %w", dir, LayoutFile, err)
	}
	return fsx.SyncDir(r, ".")
}

const emptyIndexJSON = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`

// createIfAbsent writes content to a temp file, fsyncs it, and links it to
// name unless name exists. The link is atomic: name never appears partial.
func createIfAbsent(r *os.Root, name string, content []byte) error {
	if _, err := r.Lstat(name); err == nil {
		return nil
	}
	tmp := path.Join(stagingDir, name+".init-"+randomSuffix())
	if err := writeSynced(r, tmp, content, 0); err != nil {
		return err
	}
	defer r.Remove(tmp)
	if err := r.Link(tmp, name); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// writeSynced creates name under r with content and fsyncs it. With perm
// not 0, the file gets exactly those permission bits, whatever the umask
// (a replaced file keeps its mode).
func writeSynced(r *os.Root, name string, content []byte, perm fs.FileMode) error {
	f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if perm != 0 {
		if err := f.Chmod(perm); err != nil {
			f.Close()
			r.Remove(name)
			return err
		}
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		r.Remove(name)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		r.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		r.Remove(name)
		return err
	}
	return nil
}

// Open opens the layout in dir under o.Mode's locks.
func Open(dir string, o Options) (*Layout, error) {
	if o.Create {
		if err := Init(dir); err != nil {
			return nil, err
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("layout %s does not exist: %w", dir, ErrNotLayout)
		}
		return nil, fmt.Errorf("open layout %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("layout %s is not a directory: %w", dir, ErrNotLayout)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open layout %s: %w", dir, err)
	}
	l := &Layout{dir: dir, root: r, opts: o}
	if err := l.open(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Layout) open() error {
	if err := checkLayoutFile(l.root, l.dir); err != nil {
		return err
	}
	if fi, err := l.root.Lstat(BlobsDir); fsx.IsEnvironment(err) {
		return fmt.Errorf("%s: %w", l.dir, err)
	} else if err != nil || !fi.IsDir() {
		what := "missing"
		if err == nil {
			what = fsx.FileKind(fi.Mode())
		}
		return fmt.Errorf("%s: %s is %s, expected a directory: %w: %w", l.dir, BlobsDir, what, ErrNotLayout, ErrCorrupt)
	}
	if err := l.checkPrivateDirs(); err != nil {
		return err
	}
	if err := l.lock(); err != nil {
		return err
	}
	store, err := cas.OpenWith(l.dir, cas.Options{Staging: l.staging, Records: verifiedDir})
	if err != nil {
		return err
	}
	l.blobs = store
	return nil
}

// lock takes the gc lock in the mode's way and, for writers, creates this
// process's staging directory with its own lock inside.
func (l *Layout) lock() error {
	if err := l.root.MkdirAll(stagingDir, 0o755); err != nil {
		if l.opts.Mode == ReadOnly && isReadOnlyFS(err) {
			return nil // a read-only medium: nobody can gc it either
		}
		return fmt.Errorf("%s: create %s: %w", l.dir, stagingDir, err)
	}
	gl, err := l.lockFile(l.opts.context(), gcLockFile, l.opts.Mode == Exclusive, l.opts.LockTimeout, "layout "+l.dir)
	if err != nil {
		return err
	}
	l.gcLock = gl
	if l.opts.Mode == ReadOnly {
		return nil
	}
	name := path.Join(stagingDir, fmt.Sprintf("%d-%s", os.Getpid(), randomSuffix()))
	// Made as a member of liveStaging, so a forced exit removes it.
	if err := liveStaging.Create(filepath.Join(l.dir, name), func() error { return l.root.Mkdir(name, 0o700) }); err != nil {
		return fmt.Errorf("%s: create staging directory: %w", l.dir, err)
	}
	sl, err := l.lockFile(context.Background(), path.Join(name, ".lock"), true, 0, "staging "+name)
	if err != nil {
		l.root.RemoveAll(name)
		liveStaging.Done(filepath.Join(l.dir, name))
		return err
	}
	l.stLock = sl
	l.staging = name
	return nil
}

func isReadOnlyFS(err error) bool {
	return errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), "read-only file system")
}

// Close removes this process's staging directory and releases the locks.
func (l *Layout) Close() error {
	var errs []error
	if l.blobs != nil {
		errs = append(errs, l.blobs.Close())
	}
	if l.staging != "" {
		errs = append(errs, l.root.RemoveAll(l.staging))
		liveStaging.Done(filepath.Join(l.dir, l.staging))
		l.staging = ""
	}
	errs = append(errs, l.stLock.unlock(), l.gcLock.unlock())
	l.stLock, l.gcLock = nil, nil
	if l.root != nil {
		errs = append(errs, l.root.Close())
		l.root = nil
	}
	return errors.Join(errs...)
}

// Dir is the layout directory as given to Open.
func (l *Layout) Dir() string { return l.dir }

// Blobs is the layout's blob store.
func (l *Layout) Blobs() *cas.Store { return l.blobs }

// Root is the os.Root on the layout directory.
func (l *Layout) Root() *os.Root { return l.root }

// StagingDir is this process's staging directory relative to the layout
// ("" when read-only). Files in it are removed by Close.
func (l *Layout) StagingDir() string { return l.staging }

func checkLayoutFile(r *os.Root, dir string) error {
	f, err := fsx.OpenRegular(r, LayoutFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: missing %s: %w", dir, LayoutFile, ErrNotLayout)
		}
		if fsx.IsEnvironment(err) {
			return fmt.Errorf("%s/%s: %w", dir, LayoutFile, err)
		}
		return fmt.Errorf("%s/%s: %v: %w: %w", dir, LayoutFile, err, ErrNotLayout, ErrCorrupt)
	}
	defer f.Close()
	b, err := strictjson.ReadAll(f, 64<<10)
	if fsx.IsEnvironment(err) {
		return fmt.Errorf("%s/%s: %w", dir, LayoutFile, err)
	} else if err != nil {
		return fmt.Errorf("%s/%s: %v: %w", dir, LayoutFile, err, ErrNotLayout)
	}
	var v struct {
		ImageLayoutVersion string `json:"imageLayoutVersion"`
	}
	if err := strictjson.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s/%s: %v: %w: %w", dir, LayoutFile, err, ErrNotLayout, ErrCorrupt)
	}
	if v.ImageLayoutVersion != LayoutVersion {
		return fmt.Errorf("%s/%s: imageLayoutVersion %q, expected %q: %w: %w", dir, LayoutFile, v.ImageLayoutVersion, LayoutVersion, ErrNotLayout, ErrCorrupt)
	}
	return nil
}

func readDirAll(r *os.Root, name string) ([]fs.DirEntry, error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ctxErr lets long loops stop early.
func ctxErr(ctx context.Context) error { return ctx.Err() }
