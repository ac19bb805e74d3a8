package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"runtime/debug"
	"sync"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The stat cache lets a re-pack skip reading inputs that have not changed:
// it maps a file's identity and change stamps — (device, inode, size,
// mtime, ctime) — or a whole directory listing of them, to the digest it
// packed to. It is an optimisation only: a hit is used only if the blob is
// still stored and trusted (cas Has: verified since it last changed), any
// change to a file changes its ctime (the kernel sets it on every write; no
// user call can set it back), and a file whose stamps are within
// racyWindow of the pack that read it is never cached, since a write in
// the same clock tick could leave them equal.
const (
	statCacheFile = layout.PrivateDir + "/statcache.json"
	// statCacheMax bounds the cache; the least recently used go first.
	statCacheMax = 200000
	// racyWindow covers coarse file-system timestamps (FAT: 2 s).
	racyWindow = 2 * time.Second
)

// clock is the stat cache's time source (tests move it forward to get
// past racyWindow without waiting).
var clock = time.Now

type statEntry struct {
	Digest digest.Digest `json:"d"`
	Size   int64         `json:"s"`
	DiffID digest.Digest `json:"i,omitempty"`
	Used   int64         `json:"u"` // Unix seconds of last use, for eviction
}

type statCache struct {
	mu      sync.Mutex
	entries map[string]statEntry
	dirty   bool
	now     time.Time
}

// loadStatCache reads the layout's cache; a missing or unreadable cache is
// an empty one. It is private state no user names, so anything but a
// regular file there (a FIFO would block the open) is never opened
// (RELIABILITY I15), and the read is bounded.
func loadStatCache(l *layout.Layout) *statCache {
	c := &statCache{entries: map[string]statEntry{}, now: clock()}
	f, err := fsx.OpenRegular(l.Root(), statCacheFile)
	if err != nil {
		return c
	}
	defer f.Close()
	b, err := strictjson.ReadAll(f, 64<<20)
	if err != nil {
		return c
	}
	var m map[string]statEntry
	if json.Unmarshal(b, &m) == nil {
		for k, e := range m {
			if layout.CheckDescriptor(ocispec.Descriptor{Digest: e.Digest, Size: e.Size}) == nil {
				c.entries[k] = e
			}
		}
	}
	return c
}

// lookup returns the layer cached under key if its blob is still stored.
// A compressed layer's diffID is what was cached (empty if it was not
// computed); an uncompressed one's is its digest.
func (c *statCache) lookup(ctx context.Context, l *layout.Layout, key string, mediaType string, compressed bool) (Layer, bool) {
	if c == nil || key == "" {
		return Layer{}, false
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		return Layer{}, false
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: e.Digest, Size: e.Size}
	if has, err := l.Blobs().Has(ctx, desc); err != nil || !has {
		return Layer{}, false
	}
	c.mu.Lock()
	e.Used = c.now.Unix()
	c.entries[key] = e
	c.dirty = true
	c.mu.Unlock()
	diff := e.DiffID
	if !compressed {
		diff = e.Digest
	}
	return Layer{Descriptor: desc, DiffID: diff, Reused: true}, true
}

// store records a built layer under key.
func (c *statCache) store(key string, lay Layer) {
	if c == nil || key == "" {
		return
	}
	e := statEntry{Digest: lay.Descriptor.Digest, Size: lay.Descriptor.Size, Used: c.now.Unix()}
	if lay.DiffID != lay.Descriptor.Digest {
		e.DiffID = lay.DiffID // "" when not computed
	}
	c.mu.Lock()
	c.entries[key] = e
	c.dirty = true
	c.mu.Unlock()
}

// save writes the cache back atomically if it changed. Concurrent packs
// may overwrite each other's additions; that only costs a re-hash later.
func (c *statCache) save(l *layout.Layout) error {
	if c == nil || !c.dirty || l.StagingDir() == "" {
		return nil
	}
	c.evict()
	b, err := json.Marshal(c.entries)
	if err != nil {
		return err
	}
	tmp := path.Join(l.StagingDir(), "statcache.json")
	f, err := l.Root().OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("stat cache: %w", err)
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("stat cache: %w", werr)
	}
	return l.Root().Rename(tmp, statCacheFile)
}

func (c *statCache) evict() {
	for len(c.entries) > statCacheMax {
		var oldK string
		oldU := int64(1<<63 - 1)
		for k, e := range c.entries {
			if e.Used < oldU {
				oldK, oldU = k, e.Used
			}
		}
		delete(c.entries, oldK)
	}
}

// fileKey is the cache key of one regular file, or "" if the file cannot
// be cached (no identity on this platform, or changed too recently).
func (c *statCache) fileKey(fi os.FileInfo) string {
	id, ok := cas.FingerprintOf(fi)
	if !ok || c.racy(id) {
		return ""
	}
	return "f|" + stampKey(id)
}

// dirKey is the cache key of a directory layer: every entry's name, mode,
// link target and stamps, and every option that changes the tar or its
// compression. "" if any entry cannot be cached.
func (c *statCache) dirKey(p *layerPlan) string {
	h := sha256.New()
	fmt.Fprintf(h, "v3|%s|%s|%d|%d|%s|%s|%t|%t\n", p.mediaType, p.alg, p.level, p.tarOpts.MTime.UnixNano(), codecVersion(), p.title, p.wantDiffID, p.tarOpts.PreserveMode)
	for _, e := range p.entries {
		id, ok := cas.FingerprintOf(e.info)
		if !ok || c.racy(id) {
			return ""
		}
		link := ""
		if e.info.Mode()&os.ModeSymlink != 0 {
			var err error
			if link, err = os.Readlink(e.path); err != nil {
				return ""
			}
		}
		fmt.Fprintf(h, "%q|%o|%q|%s\n", e.name, e.info.Mode(), link, stampKey(id))
	}
	return "d|" + hex.EncodeToString(h.Sum(nil))
}

// racy: an input's stamps within racyWindow of this pack could stay equal
// across a write in the same clock tick (unlike blobs, inputs are files
// users edit while packing).
func (c *statCache) racy(id cas.Fingerprint) bool {
	limit := c.now.Add(-racyWindow).UnixNano()
	return id.Mtime >= limit || id.Ctime >= limit
}

// stampKey is a file's fingerprint as the cache keys spell it.
func stampKey(s cas.Fingerprint) string {
	return fmt.Sprintf("%d|%d|%d|%d|%d", s.Dev, s.Ino, s.Size, s.Mtime, s.Ctime)
}

// codecVersion names the compression library build: compressed bytes
// depend on it, so a cached directory layer is only reused by the same one.
func codecVersion() string {
	codecOnce.Do(func() {
		codecVer = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Path == "github.com/klauspost/compress" {
					codecVer = d.Version
				}
			}
		}
	})
	return codecVer
}

var (
	codecOnce sync.Once
	codecVer  string
)
