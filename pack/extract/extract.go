// Package extract writes an artifact's files back out of a layout,
// byte-identical, confined to one directory (RELIABILITY I9, E-46, E-47,
// E-49).
//
// Extract works in three steps. Plan: read the manifests (and, for an
// index, each member into its own subdirectory), decide what each layer
// is, and check every title and member name. Stage: write every layer into
// a private directory inside DIR, checking each tar entry as it comes and
// verifying each blob's digest (and the uncompressed digest when known)
// at its end. Commit: only when every layer verified and every name
// passed, move the staged tree into place — so a corrupt blob or a hostile
// name leaves nothing under a final name. Every write goes through an
// os.Root on DIR; no name from the artifact is ever joined to a host path.
package extract

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Sentinel errors; the CLI maps them to exit codes.
var (
	// ErrUnsafe: the artifact cannot be extracted safely or unambiguously —
	// a name that is not a local path, a link escaping DIR, a device node,
	// two layers writing one path, a malformed tar (integrity class).
	ErrUnsafe = errors.New("unsafe or malformed content")
	// ErrExists: a target path already exists in DIR and Overwrite is off
	// (conflict class).
	ErrExists = errors.New("target exists")
)

// Options control Extract.
type Options struct {
	// Dir is the output directory; it is created if missing.
	Dir string
	// Include, if not empty, limits what is written to names (titles and
	// tar entry paths, relative to the manifest's directory) matched by one
	// of these path.Match globs, or below a directory matched by one.
	Include []string
	// Overwrite replaces existing files and symlinks in Dir (the entry
	// itself, never what a symlink points to). Directories are merged.
	Overwrite bool
	// MaxBytes bounds the bytes written, decompressed (a bomb guard).
	// 0: the free space of Dir's file system; < 0: no bound.
	MaxBytes int64
	// Jobs bounds the layers decompressed at once (<= 0: 1).
	Jobs     int
	Progress layout.Progress
	// Info receives informational lines (skipped layers); may be nil.
	Info func(string)
	// Warn receives warnings; may be nil.
	Warn func(string)
}

// File is one name written (directories are not listed).
type File struct {
	Path string `json:"path"` // slash-separated, relative to Dir
	Size int64  `json:"size"`
	Type string `json:"type"` // "file", "hardlink" or "symlink"
}

// Result lists what was written.
type Result struct {
	Files []File
	Bytes int64 // bytes of regular files written (hardlinks not counted)
}

// Annotations read from layers.
const (
	annotationTitle         = ocispec.AnnotationTitle
	annotationModelFilepath = "org.cncf.model.filepath"
	annotationUnpack        = layout.AnnotationUnpack
	annotationDiffID        = layout.AnnotationDigest
)

// stagePrefix starts the name of the staging directory inside Dir.
const stagePrefix = ".oci-pack-extract-"

// extraction is one run of Extract.
type extraction struct {
	l         *layout.Layout
	o         Options
	match     matcher
	manifests []*manifestPlan
	root      *os.Root // on o.Dir
	stage     string   // staging directory, relative to root
	stageLock *os.File // held while stage exists (see makeStage)
	claims    *claims
	budget    *budget

	mu       sync.Mutex
	files    []File
	bytes    int64
	dirModes map[string]fs.FileMode // staged explicit directories → mode
}

// Extract writes the files of the manifest or index desc (resolved in l,
// which should be open at least ReadOnly so gc cannot delete what is read)
// into o.Dir. On error nothing was moved under a final name in o.Dir —
// what a failing commit had moved is taken back (see commit) — and the
// staging directory is removed. Entries o.Dir already holds with the same
// content are kept, so a run after an interrupted one finishes its work.
func Extract(ctx context.Context, l *layout.Layout, desc ocispec.Descriptor, o Options) (res *Result, err error) {
	if o.Jobs <= 0 {
		o.Jobs = 1
	}
	if o.Info == nil {
		o.Info = func(string) {}
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	if err := checkGlobs(o.Include); err != nil {
		return nil, fmt.Errorf("%w: %v", layout.ErrInvalidArgument, err)
	}
	x := &extraction{l: l, o: o, match: matcher(o.Include), dirModes: map[string]fs.FileMode{}}
	if err := x.plan(ctx, desc, "", 0); err != nil {
		return nil, err
	}
	if err := x.outsideLayout(); err != nil {
		return nil, err
	}
	created, err := x.openDir()
	if err != nil {
		return nil, err
	}
	stagePath := filepath.Join(o.Dir, x.stage)
	defer func() {
		defer liveStages.Done(stagePath)
		if rerr := x.removeStage(); rerr != nil && err == nil {
			err = fmt.Errorf("remove staging directory %s: %w", x.display(x.stage), rerr)
		}
		x.stageLock.Close()
		x.root.Close()
		if err != nil && created {
			os.Remove(o.Dir) // only if still empty
		}
	}()
	if err := x.claimPlanned(); err != nil {
		return nil, err
	}
	if err := x.preflight(); err != nil {
		return nil, err
	}
	if err := x.run(ctx); err != nil {
		return nil, err
	}
	if err := x.claims.checkSymlinks(); err != nil {
		return nil, err
	}
	if err := x.commit(ctx); err != nil {
		return nil, err
	}
	sort.Slice(x.files, func(i, j int) bool { return x.files[i].Path < x.files[j].Path })
	return &Result{Files: x.files, Bytes: x.bytes}, nil
}

// openDir creates Dir if missing, opens the root on it, makes the staging
// directory and learns whether the file system folds case.
func (x *extraction) openDir() (created bool, err error) {
	if _, err := os.Lstat(x.o.Dir); errors.Is(err, fs.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(x.o.Dir, 0o755); err != nil {
		return false, fmt.Errorf("create output directory: %w", err)
	}
	if x.root, err = os.OpenRoot(x.o.Dir); err != nil {
		return false, fmt.Errorf("open output directory: %w", err)
	}
	if x.stage, x.stageLock, err = makeStage(x.root, x.o.Dir); err != nil {
		x.root.Close()
		return false, fmt.Errorf("create staging directory in %s: %w", x.o.Dir, err)
	}
	folds, err := foldsCase(x.root, x.stage)
	if err != nil {
		x.root.RemoveAll(x.stage)
		x.stageLock.Close()
		x.root.Close()
		return false, fmt.Errorf("probe %s for case folding: %w", x.o.Dir, err)
	}
	x.claims = newClaims(folds)
	max, what := x.o.MaxBytes, "the byte limit given"
	if max == 0 {
		max, what = freeSpace(x.o.Dir), "the free space on "+x.o.Dir+"'s file system"
	}
	x.budget = newBudget(max, what)
	return created, nil
}

// outsideLayout refuses a Dir that is the layout or lies inside it: a
// title such as "blobs/sha256/<hex>" must never reach the blob store.
func (x *extraction) outsideLayout() error {
	lfi, err := os.Stat(x.l.Dir())
	if err != nil {
		return fmt.Errorf("layout %s: %w", x.l.Dir(), err)
	}
	abs, err := filepath.Abs(x.o.Dir)
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if layout.Within(abs, lfi, os.Stat, nil) {
		return fmt.Errorf("%w: refusing to extract into the layout %s itself (-o %s)", layout.ErrInvalidArgument, x.l.Dir(), x.o.Dir)
	}
	return nil
}

// removeStage removes the staging directory.
func (x *extraction) removeStage() error { return removeTree(x.root, x.stage) }

// foldsCase creates a probe file in dir and reports whether its
// upper-case name finds the same file.
func foldsCase(r *os.Root, dir string) (bool, error) {
	lower := path.Join(dir, "case-probe")
	f, err := r.OpenFile(lower, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	f.Close()
	defer r.Remove(lower)
	a, err := r.Lstat(lower)
	if err != nil {
		return false, err
	}
	b, err := r.Lstat(path.Join(dir, "CASE-PROBE"))
	if err != nil {
		return false, nil
	}
	return os.SameFile(a, b), nil
}

// claimPlanned claims member directories and raw-file titles, so their
// collisions (including case collisions) fail before any layer is read.
func (x *extraction) claimPlanned() error {
	for _, mp := range x.manifests {
		if mp.prefix != "" {
			if err := x.claims.add(mp.prefix, &claim{kind: kindDir}); err != nil {
				return err
			}
		}
		for _, lp := range mp.layers {
			if lp.kind == layerRaw || lp.kind == layerFileTar {
				if err := x.claims.add(join(mp.prefix, lp.title), &claim{kind: kindFile, layer: lp, size: lp.desc.Size}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// preflight fails before anything is read when the raw-file layers alone
// (whose sizes are known) exceed the budget — by default the free space.
func (x *extraction) preflight() error {
	var need int64
	for _, mp := range x.manifests {
		for _, lp := range mp.layers {
			if lp.kind == layerRaw || lp.kind == layerFileTar {
				need += lp.desc.Size
			}
		}
	}
	if x.budget.max >= 0 && need > x.budget.max {
		return fmt.Errorf("the files need %d bytes, more than %s (%d bytes); nothing was written", need, x.budget.what, x.budget.max)
	}
	return nil
}

// run stages every layer, up to Jobs at once. An image's layers apply in
// order, so an image is one task.
func (x *extraction) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(x.o.Jobs)
	prog := x.o.Progress
	var total int64
	for _, mp := range x.manifests {
		for _, lp := range mp.layers {
			if lp.kind != layerSkip {
				total += lp.desc.Size
			}
		}
	}
	prog.Total(total)
	for _, mp := range x.manifests {
		if mp.image {
			g.Go(func() error { return x.unpackImage(gctx, mp, prog) })
			continue
		}
		for _, lp := range mp.layers {
			if lp.kind == layerSkip {
				continue
			}
			g.Go(func() error {
				tr := prog.Start(join(mp.prefix, lp.title), lp.desc.Size)
				var err error
				switch lp.kind {
				case layerRaw:
					err = x.writeRaw(gctx, lp, tr)
				case layerFileTar:
					err = x.writeFileTar(gctx, lp, tr)
				default:
					err = x.unpackTar(gctx, lp, tr)
				}
				tr.Done(err)
				return err
			})
		}
	}
	return g.Wait()
}

// record notes a written name for the result.
func (x *extraction) record(f File) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.files = append(x.files, f)
	if f.Type == "file" {
		x.bytes += f.Size
	}
}

// applyDirModes sets the staged directories' modes from their tar entries,
// deepest first, once nothing more is written into them.
func (x *extraction) applyDirModes() error {
	dirs := make([]string, 0, len(x.dirModes))
	for p := range x.dirModes {
		dirs = append(dirs, p)
	}
	sort.Slice(dirs, func(i, j int) bool {
		di, dj := strings.Count(dirs[i], "/"), strings.Count(dirs[j], "/")
		if di != dj {
			return di > dj
		}
		return dirs[i] < dirs[j]
	})
	for _, p := range dirs {
		if err := x.root.Chmod(path.Join(x.stage, p), x.dirModes[p]); err != nil {
			return fmt.Errorf("set mode of %s: %w", p, err)
		}
	}
	return nil
}
