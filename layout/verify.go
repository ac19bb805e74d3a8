package layout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// FastHashLimit: with VerifyOptions.Fast, blobs larger than this are
// checked for presence, type and size but not re-hashed.
const FastHashLimit = 1 << 20

// VerifyOptions tune Verify.
type VerifyOptions struct {
	Fast bool
	Jobs int   // parallel hashers; <= 0 means 1
	Refs []Ref // limit to these refs' graphs (with referrers); empty: all of index.json
	// Progress, if not nil, is told about each leaf blob as it is
	// checked (bytes hashed), after the overall total.
	Progress Progress
}

// Problem is one thing Verify found wrong.
type Problem struct {
	Kind   string        `json:"kind"` // "missing", "corrupt", "invalid", "unreadable"
	Digest digest.Digest `json:"digest,omitempty"`
	Where  string        `json:"where,omitempty"` // "layer 1 of v1"
	Detail string        `json:"detail"`
	// Cause is the environment failure (permission denied, an I/O
	// error, too many open files: fsx.IsEnvironment) that kept an
	// "unreadable" blob from being checked; it says nothing about the
	// blob's bytes.
	Cause error `json:"-"`
}

func (p Problem) String() string {
	if p.Digest == "" {
		return fmt.Sprintf("%s: %s", p.Kind, p.Detail)
	}
	return fmt.Sprintf("%s blob %s (%s): %s", p.Kind, p.Digest, p.Where, p.Detail)
}

// Report is Verify's result.
type Report struct {
	Blobs    int   // distinct blobs checked
	Bytes    int64 // bytes re-hashed
	Problems []Problem
	// Warnings are findings that do not make the layout invalid: a blob
	// with more than one hard link (B-23), whose bytes another name can
	// change.
	Warnings []string
}

// Verify is fsck for a layout: index.json and every reachable manifest
// and index are strict, schema-valid JSON; every reachable blob is a
// regular file of the right size and (unless Fast skips it) digest; tags
// are valid. Only an error that stops the check is returned as error;
// everything found wrong is in the report.
func (l *Layout) Verify(ctx context.Context, o VerifyOptions) (*Report, error) {
	rep := &Report{}
	idx, raw, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	// Over a budget (read with the repair allowance), the budget is the
	// problem to report; the schema check, whose decoder takes many times
	// the document's size in memory, is left for when it is back under.
	if err := checkBudgets(raw, len(idx.Manifests)); err != nil {
		rep.Problems = append(rep.Problems, Problem{Kind: "invalid", Detail: "index.json: " + err.Error()})
	} else if err := validateSchemaBytes(raw, true); err != nil {
		rep.Problems = append(rep.Problems, Problem{Kind: "invalid", Detail: "index.json: " + err.Error()})
	}
	roots := RootsOf(idx)
	if len(o.Refs) > 0 {
		roots = roots[:0]
		for _, r := range o.Refs {
			d, err := l.Resolve(ctx, r)
			if err != nil {
				return nil, err
			}
			roots = append(roots, Node{Descriptor: d, Role: r.Name()})
		}
	}
	var leaves []*Node
	var mu sync.Mutex
	add := func(p Problem) {
		mu.Lock()
		rep.Problems = append(rep.Problems, p)
		mu.Unlock()
	}
	// Each root is walked on its own, so a missing or broken manifest is a
	// problem to report, not a reason to stop; roots are walked in
	// parallel, sharing one visited set.
	warn := func(w string) {
		mu.Lock()
		rep.Warnings = append(rep.Warnings, w)
		mu.Unlock()
	}
	seen := NewVisitSet()
	jobs := max(o.Jobs, 1)
	wg, wctx := errgroup.WithContext(ctx)
	wg.SetLimit(jobs)
	for _, r := range roots {
		wg.Go(func() error {
			err := l.Walk(wctx, []Node{r}, WalkOptions{Referrers: len(o.Refs) > 0, Seen: seen}, func(n *Node) error {
				if n.Doc != nil {
					if err := n.CheckSchema(); err != nil {
						add(Problem{Kind: "invalid", Digest: n.Descriptor.Digest, Where: n.Path(), Detail: err.Error()})
					}
				}
				mu.Lock()
				rep.Blobs++
				if n.Doc == nil {
					leaves = append(leaves, n)
				}
				mu.Unlock()
				return nil
			})
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return err
				}
				add(classify(err, r))
			}
			return nil
		})
	}
	if err := wg.Wait(); err != nil {
		return nil, err
	}
	var total int64
	for _, n := range leaves {
		if !o.Fast || n.Descriptor.Size <= FastHashLimit {
			total += n.Descriptor.Size
		}
	}
	o.Progress.Total(total)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, n := range leaves {
		g.Go(func() error {
			p, hashed, err := l.checkBlob(gctx, n, o, warn)
			if err != nil {
				return err
			}
			if p != nil {
				add(*p)
			}
			mu.Lock()
			rep.Bytes += hashed
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Digest < rep.Problems[j].Digest })
	sort.Strings(rep.Warnings)
	return rep, nil
}

// classify turns a walk error on a root into a Problem.
func classify(err error, root Node) Problem {
	kind := "corrupt"
	switch {
	case fsx.IsEnvironment(err):
		return Problem{Kind: "unreadable", Where: root.Role, Detail: err.Error(), Cause: err}
	case errors.Is(err, cas.ErrNotFound):
		kind = "missing"
	case errors.Is(err, cas.ErrInvalidDigest):
		kind = "invalid"
	}
	return Problem{Kind: kind, Where: root.Role, Detail: err.Error()}
}

// CheckSchema checks a walked node's document against its image-spec JSON
// schema: what verify reports and import requires, so copy and export
// check it too rather than ship what the other side refuses. Only OCI
// manifests and indexes have a schema; nil for any other node.
func (n *Node) CheckSchema() error {
	mt := n.Descriptor.MediaType
	if n.Doc == nil || (mt != ocispec.MediaTypeImageManifest && mt != ocispec.MediaTypeImageIndex) {
		return nil
	}
	return validateSchemaBytes(n.Doc.Raw, n.Doc.IsIndex())
}

// checkBlob checks one leaf blob: present, regular, right size, and (unless
// fast and large) right digest; a hard-linked blob is passed to warn. It
// returns the bytes it hashed.
func (l *Layout) checkBlob(ctx context.Context, n *Node, o VerifyOptions, warn func(string)) (*Problem, int64, error) {
	d := n.Descriptor
	prob := func(kind, detail string) *Problem {
		return &Problem{Kind: kind, Digest: d.Digest, Where: n.Path(), Detail: detail}
	}
	failed := func(err error) *Problem {
		if fsx.IsEnvironment(err) {
			return &Problem{Kind: "unreadable", Digest: d.Digest, Where: n.Path(), Detail: err.Error(), Cause: err}
		}
		return prob("corrupt", err.Error())
	}
	info, err := l.blobs.Stat(ctx, d.Digest)
	switch {
	case errors.Is(err, cas.ErrNotFound):
		return prob("missing", "not in blobs/"), 0, nil
	case err != nil:
		return failed(err), 0, nil
	case info.Size != d.Size:
		return prob("corrupt", fmt.Sprintf("size %d in descriptor, blob is %d", d.Size, info.Size)), 0, nil
	}
	if info.Links > 1 {
		warn(fmt.Sprintf("blob %s (%s) has %d hard links: writing to any other of its names changes the blob", d.Digest, n.Path(), info.Links))
	}
	if o.Fast && d.Size > FastHashLimit {
		return nil, 0, nil
	}
	rc, err := l.blobs.OpenVerified(ctx, d)
	if err != nil {
		return failed(err), 0, nil
	}
	defer rc.Close()
	tr := o.Progress.Start(n.Path(), d.Size)
	n64, err := io.Copy(progressWriter(tr.Add), rc)
	tr.Done(err)
	if err != nil {
		if ctx.Err() != nil {
			return nil, n64, ctx.Err()
		}
		return failed(err), n64, nil
	}
	return nil, n64, nil
}

type progressWriter func(int64)

func (p progressWriter) Write(b []byte) (int, error) { p(int64(len(b))); return len(b), nil }

// Verified is a convenience: Verify, then an error listing every problem
// (see Report.Err).
func (l *Layout) Verified(ctx context.Context, o VerifyOptions) error {
	rep, err := l.Verify(ctx, o)
	if err != nil {
		return err
	}
	return rep.Err()
}

// Err summarises the report's problems as one error, or nil. It wraps
// ErrCorrupt if anything was found corrupt or invalid; else, if a blob
// could not be read (an environment failure, which says nothing about
// the layout), that failure; else ErrMissingBlob.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	var class error = ErrMissingBlob
	var buf bytes.Buffer
	for i, p := range r.Problems {
		switch {
		case p.Kind == "unreadable" && class == ErrMissingBlob:
			class = p.Cause
		case p.Kind != "missing" && p.Kind != "unreadable":
			class = ErrCorrupt
		}
		if i > 0 {
			buf.WriteString("; ")
		}
		buf.WriteString(p.String())
	}
	return fmt.Errorf("%d problem(s): %s: %w", len(r.Problems), buf.String(), class)
}
