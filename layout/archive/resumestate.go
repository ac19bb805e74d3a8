package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// An import of an archive read from regular files records, every so
// often, how far it got: in LAYOUT/.oci-pack/resume/import-<key>.json
// (layout.WriteState), key derived from the archive's path, with the
// large blob it was staging in import-<key>.partial beside it
// (layout.OpenPartial, cas.Store.ResumeWriter). A re-run of the same
// import seeks there instead of reading the archive again from its
// start. Nothing in a state is trusted that can be checked: it must be a
// regular file of bounded size that parses strictly, name this archive
// with every volume of the size and modification time it had, and
// describe offsets that fit it; the blobs it says were stored must still
// be stored; the partial blob is taken over only when no other process
// holds its lock and its bytes still hash to the checkpoint (they are
// read again, from the layout's disk), and its digest is checked at
// commit like any other (a mismatch falls back to reading the whole
// entry again). Anything else starts over, saying why. gc removes every
// state.
const (
	resumeFormat = "oci-pack-import-resume/v1"
	// maxResumeState bounds a state file: 100,000 entry names and blob
	// descriptors fit.
	maxResumeState = 32 << 20
	// maxResumeStates bounds how many interrupted imports a layout
	// remembers; the oldest are forgotten first.
	maxResumeStates = 16
)

// importState is what a checkpoint records.
type importState struct {
	Format  string     `json:"format"`
	Archive string     `json:"archive"` // the archive's path, as resolved when the state was saved
	Volumes []volumeID `json:"volumes"`
	// Offset is where the next tar header starts in the archive: every
	// entry before it was imported (or, for Pending, up to its data).
	Offset  int64                `json:"offset"`
	Entries int                  `json:"entries"`
	Seen    []string             `json:"seen"` // entry names before Offset, cleaned
	Blobs   []ocispec.Descriptor `json:"blobs"`
	Found   bool                 `json:"found"` // oci-layout was read
	Last    string               `json:"last"`
	End     int64                `json:"end"` // where the last entry's data ended, padded
	Result  resumeCounts         `json:"result"`
	Check   volResume            `json:"check"` // sidecar check position
	Pending *pendingBlob         `json:"pending,omitempty"`
}

type resumeCounts struct {
	Imported      int   `json:"imported"`
	ImportedBytes int64 `json:"importedBytes"`
	Reused        int   `json:"reused"`
	ReusedBytes   int64 `json:"reusedBytes"`
}

// pendingBlob is a blob entry half staged at the checkpoint.
type pendingBlob struct {
	Name      string        `json:"name"` // as in the archive
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	DataStart int64         `json:"dataStart"` // archive offset of its first data byte
	Offset    int64         `json:"offset"`    // bytes staged at the checkpoint
	State     []byte        `json:"state"`     // the blob's hash state after them
}

// stateName is the state file (under layout.ResumeDir) of the archive
// whose first file is at abs.
func stateName(abs string) string {
	sum := sha256.Sum256([]byte(abs))
	return "import-" + hex.EncodeToString(sum[:12]) + ".json"
}

// partialName is the partial blob beside state file name.
func partialName(state string) string { return strings.TrimSuffix(state, ".json") + ".partial" }

// readState reads and parses the state file name; a missing one is
// (nil, nil).
func readState(l *layout.Layout, name string) (*importState, error) {
	b, err := l.ReadState(name, maxResumeState)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st importState
	if err := strictjson.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Format != resumeFormat {
		return nil, fmt.Errorf("format %q, expected %q", st.Format, resumeFormat)
	}
	return &st, nil
}

// check validates st against the archive as it is now (ids, its total
// size): every number must fit, every name and digest be well formed.
func (st *importState) check(abs string, ids []volumeID) error {
	if st.Archive != abs {
		return fmt.Errorf("it is for %s, not this archive", st.Archive)
	}
	if len(st.Volumes) != len(ids) {
		return fmt.Errorf("the archive had %d files then, %d now", len(st.Volumes), len(ids))
	}
	var total int64
	for i, id := range ids {
		if was := st.Volumes[i]; was != id {
			return fmt.Errorf("%s changed since (size %d → %d bytes, modified %s → %s)", id.Name, was.Size, id.Size, stamp(was.ModTime), stamp(id.ModTime))
		}
		total += id.Size
	}
	switch {
	case st.Offset <= 0 || st.Offset > total || st.End > st.Offset || st.End < 0:
		return fmt.Errorf("offset %d (end %d) outside the archive's %d bytes", st.Offset, st.End, total)
	case st.Entries != len(st.Seen) || st.Entries > MaxEntries || len(st.Blobs) > st.Entries:
		return fmt.Errorf("%d entries, %d names, %d blobs: inconsistent", st.Entries, len(st.Seen), len(st.Blobs))
	case st.Result.Imported < 0 || st.Result.Reused < 0 || st.Result.ImportedBytes < 0 || st.Result.ReusedBytes < 0:
		return fmt.Errorf("negative counts")
	}
	for _, n := range st.Seen {
		if n == "" || len(n) > maxEntryName {
			return fmt.Errorf("entry name of %d bytes", len(n))
		}
	}
	for _, b := range st.Blobs {
		if err := cas.Validate(b.Digest); err != nil || b.Size < 0 {
			return fmt.Errorf("blob %q of %d bytes: invalid", b.Digest, b.Size)
		}
	}
	if p := st.Pending; p != nil {
		if err := cas.Validate(p.Digest); err != nil || p.Name == "" || len(p.Name) > maxEntryName || p.Size < 0 ||
			p.Offset <= 0 || p.Offset > p.Size || p.DataStart <= st.Offset || p.DataStart+p.Size > total {
			return fmt.Errorf("half-staged blob %q: invalid", p.Digest)
		}
	}
	return nil
}

// writeState saves st as name (layout.WriteState: atomic, through the
// layout's os.Root).
func writeState(l *layout.Layout, name string, st *importState) error {
	b := mustMarshal(st)
	if len(b) > maxResumeState {
		// Never written: readState would refuse it (RELIABILITY I14).
		return fmt.Errorf("the state is %d bytes, over the %d its reader takes", len(b), maxResumeState)
	}
	return l.WriteState(name, b)
}

// removeState forgets name and the partial blob beside it.
func removeState(l *layout.Layout, name string) {
	l.RemoveState(name)
	l.RemoveState(partialName(name))
}

// pruneStates removes the oldest states (and their parked blobs) so that
// at most keep remain.
func pruneStates(l *layout.Layout, keep int) {
	f, err := l.Root().Open(layout.ResumeDir)
	if err != nil {
		return
	}
	entries, _ := f.ReadDir(-1)
	f.Close()
	type aged struct {
		name string
		mod  int64
	}
	var states []aged
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "import-") || !strings.HasSuffix(e.Name(), ".json") {
			continue // another transfer's (a registry pull or push)
		}
		if fi, err := e.Info(); err == nil {
			states = append(states, aged{e.Name(), fi.ModTime().UnixNano()})
		}
	}
	sort.Slice(states, func(i, j int) bool { return states[i].mod > states[j].mod })
	for _, s := range states[min(keep, len(states)):] {
		removeState(l, s.name)
	}
}

// stamp formats a modification time in nanoseconds since the epoch.
func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }
