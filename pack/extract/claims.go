package extract

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
)

// MaxEntries bounds the names one extraction may write (RELIABILITY I8):
// every name is remembered until the commit, so this bounds memory too.
const MaxEntries = 1 << 20

// maxHops bounds symlink substitutions when resolving one link target.
const maxHops = 255

type kind uint8

const (
	kindDir kind = iota + 1
	kindFile
	kindSymlink
)

func (k kind) String() string {
	switch k {
	case kindDir:
		return "directory"
	case kindFile:
		return "file"
	}
	return "symlink"
}

// claim is what one extraction decided to put at a path.
type claim struct {
	kind   kind
	layer  *layerPlan // who claimed it (nil: an index member directory)
	target string     // symlink target, verbatim
	size   int64      // regular files
	// base is the member prefix the symlink must stay inside.
	base string
}

func (c *claim) owner() string {
	if c.layer == nil {
		return "an index member"
	}
	return c.layer.who
}

// claims is the set of every path an extraction writes, keyed by the
// cleaned slash path relative to DIR. It makes the outcome independent of
// the order layers run in: two layers (or two entries) naming one path are
// an error, as is anything below a file or symlink — so nothing is ever
// written through a symlink this extraction created — and, on a
// case-folding file system, two names equal but for case.
type claims struct {
	mu    sync.Mutex
	m     map[string]*claim
	folds bool
	fold  map[string]string // lower-cased path → path, when folds
}

func newClaims(folds bool) *claims {
	c := &claims{m: map[string]*claim{}, folds: folds}
	if folds {
		c.fold = map[string]string{}
	}
	return c
}

// add claims p (and its parents, as directories) for cl. Directories may
// be claimed many times; anything else only once.
func (c *claims) add(p string, cl *claim) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= MaxEntries {
		return fmt.Errorf("%s: more than %d entries: %w", cl.owner(), MaxEntries, ErrUnsafe)
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		parent := p[:i]
		if prev, ok := c.m[parent]; ok {
			if prev.kind != kindDir {
				return fmt.Errorf("%s entry %q: parent %q is a %s from %s; refusing to write through it: %w", cl.owner(), p, parent, prev.kind, prev.owner(), ErrUnsafe)
			}
			continue
		}
		if err := c.put(parent, &claim{kind: kindDir, layer: cl.layer}); err != nil {
			return err
		}
	}
	if prev, ok := c.m[p]; ok {
		if prev.kind == kindDir && cl.kind == kindDir {
			return nil
		}
		if prev.layer == cl.layer {
			return fmt.Errorf("%s: duplicate entry %q (%s, then %s): %w", cl.owner(), p, prev.kind, cl.kind, ErrUnsafe)
		}
		return fmt.Errorf("%s entry %q (%s) collides with %s (%s): %w", cl.owner(), p, cl.kind, prev.owner(), prev.kind, ErrUnsafe)
	}
	return c.put(p, cl)
}

func (c *claims) put(p string, cl *claim) error {
	if c.folds {
		low := strings.ToLower(p)
		if other, ok := c.fold[low]; ok && other != p {
			return fmt.Errorf("%q and %q collide on this filesystem (it ignores case): %w", other, p, ErrUnsafe)
		}
		c.fold[low] = p
	}
	c.m[p] = cl
	return nil
}

// get returns the claim at p.
func (c *claims) get(p string) (*claim, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.m[p]
	return cl, ok
}

// checkSymlinks resolves every symlink target through the symlinks this
// extraction creates (the way the kernel will) and fails if one leaves the
// member directory it belongs to. Each link was checked lexically on its
// own as it came; this catches chains such as "q → .." plus "r → q/.."
// whose parts look harmless alone. Call it when all layers are staged.
func (c *claims) checkSymlinks() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var links []string
	for p, cl := range c.m {
		if cl.kind == kindSymlink {
			links = append(links, p)
		}
	}
	sort.Strings(links)
	for _, p := range links {
		cl := c.m[p]
		if err := c.resolve(p, cl); err != nil {
			return fmt.Errorf("%s entry %q: symlink to %q %v: %w", cl.owner(), p, cl.target, err, ErrUnsafe)
		}
	}
	return nil
}

// resolve walks the target of the link at p component by component,
// substituting claimed symlinks, and reports whether it ever steps above
// the link's member directory.
func (c *claims) resolve(p string, cl *claim) error {
	floor := 0
	if cl.base != "" {
		floor = len(strings.Split(cl.base, "/"))
	}
	cur := strings.Split(path.Dir(p), "/")
	if cur[0] == "." {
		cur = cur[:0]
	}
	todo := strings.Split(cl.target, "/")
	for hops := 0; len(todo) > 0; {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(cur) <= floor {
				return fmt.Errorf("escapes the extraction directory")
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := strings.Join(append(cur[:len(cur):len(cur)], comp), "/")
		link, ok := c.m[next]
		if !ok || link.kind != kindSymlink {
			cur = append(cur, comp)
			continue
		}
		if hops++; hops > maxHops {
			return fmt.Errorf("is a symlink loop")
		}
		if path.IsAbs(link.target) {
			return fmt.Errorf("escapes the extraction directory through %q", next)
		}
		todo = append(strings.Split(link.target, "/"), todo...)
	}
	return nil
}
