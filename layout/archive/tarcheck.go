package archive

import (
	"archive/tar"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// entryKind says what an archive entry is to an import.
type entryKind int

const (
	kindSkip       entryKind = iota // a directory, another tool's scratch or extra file
	kindLayoutFile                  // oci-layout
	kindIndex                       // index.json
	kindBlob                        // blobs/<alg>/<encoded>
)

// entry is a checked archive entry. Its name is only ever compared and
// printed, never used as a host path (RELIABILITY I7).
type entry struct {
	kind   entryKind
	name   string        // cleaned: "./blobs//sha256/x" is "blobs/sha256/x"
	digest digest.Digest // kindBlob only
}

// skippedDirs are top-level directories that layouts written by other
// tools contain but that are not part of the image layout: oras-go's
// content/oci store keeps partial downloads in ingest/, and oci-pack keeps
// its locks and staging in .oci-pack/. A `tar -cf` of such a layout
// carries them; their files are read and discarded, never written.
var skippedDirs = map[string]bool{"ingest": true, layout.PrivateDir: true}

// maxEntryName bounds an entry name; the layout shape needs ~150 bytes.
// Longer names (PAX allows up to 1 MiB) are refused before any message
// would quote them whole.
const maxEntryName = 4096

// maxEntryNames bounds the bytes of all entry names an import remembers
// (to refuse duplicates, and in its resume state): MaxEntries names of
// the layout shape fit many times over, while 100,000 names of 4 KiB (a
// few MiB of .tar.gz) would hold 800 MiB.
const maxEntryNames = 64 << 20

// checkEntry validates hdr's name and type against the layout shape and
// says what the entry is. Rejected: empty, absolute, backslashed or
// NUL-bearing names, any ".." component, anything outside oci-layout,
// index.json, blobs/<alg>/<digest>, the skipped scratch directories and
// extra top-level files, every type but regular file and directory
// (links, devices, FIFOs, PAX global headers, sparse files), and a file
// where a directory belongs or the other way round.
//
// Extra top-level files (issue 12 class 10): tools write an OCI layout
// plus files of their own beside it — `docker save` (Docker ≥ 25) adds
// manifest.json and repositories, `regctl image export` manifest.json —
// so a regular file directly at the top, under any clean name, is read and
// discarded, never written. Every check above still applies to it; an
// extra directory, or anything extra inside blobs/, is still refused.
func checkEntry(hdr *tar.Header) (entry, error) {
	raw := hdr.Name
	switch {
	case len(raw) > maxEntryName:
		return entry{}, fmt.Errorf("archive entry %.64q… (%d bytes): name longer than %d bytes: %w", raw, len(raw), maxEntryName, ErrInvalid)
	case raw == "":
		return entry{}, fmt.Errorf("archive entry with an empty name: %w", ErrInvalid)
	case strings.ContainsAny(raw, "\\\x00"):
		return entry{}, fmt.Errorf("archive entry %q: backslash or NUL in name: %w", raw, ErrInvalid)
	case strings.HasPrefix(raw, "/"):
		return entry{}, fmt.Errorf("archive entry %q: absolute path: %w", raw, ErrInvalid)
	}
	for _, c := range strings.Split(raw, "/") {
		if c == ".." {
			return entry{}, fmt.Errorf("archive entry %q: path traversal (\"..\"): %w", raw, ErrInvalid)
		}
	}
	if hdr.Typeflag == tar.TypeGNUSparse || hasSparseRecords(hdr) {
		return entry{}, fmt.Errorf("unsupported entry type sparse file for %q: %w", raw, ErrInvalid)
	}
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
		return entry{}, fmt.Errorf("unsupported entry type %s for %q: %w", fsx.TarTypeName(hdr.Typeflag), raw, ErrInvalid)
	}
	name := path.Clean(raw)
	parts := strings.Split(name, "/")
	e := entry{name: name}
	switch {
	case name == ".":
		return e, wantType(hdr, tar.TypeDir)
	case name == layout.LayoutFile:
		e.kind = kindLayoutFile
		return e, wantType(hdr, tar.TypeReg)
	case name == layout.IndexFile:
		e.kind = kindIndex
		return e, wantType(hdr, tar.TypeReg)
	case skippedDirs[parts[0]]:
		return e, nil
	case len(parts) == 1 && parts[0] != layout.BlobsDir && hdr.Typeflag == tar.TypeReg:
		return e, nil // an extra file beside the layout
	case parts[0] != layout.BlobsDir || len(parts) > 3:
		return e, fmt.Errorf("archive entry %q is outside the OCI layout shape (oci-layout, index.json, blobs/<alg>/<digest>)%s: %w", raw, nestedHint(hdr, parts), ErrInvalid)
	case len(parts) == 1:
		return e, wantType(hdr, tar.TypeDir)
	case len(parts) == 2:
		if !digest.Algorithm(parts[1]).Available() {
			return e, fmt.Errorf("archive entry %q: unsupported digest algorithm %q: %w", raw, parts[1], ErrInvalid)
		}
		return e, wantType(hdr, tar.TypeDir)
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])
	if err := cas.Validate(d); err != nil {
		return e, fmt.Errorf("archive entry %q: %v: %w", raw, err, ErrInvalid)
	}
	e.kind, e.digest = kindBlob, d
	return e, wantType(hdr, tar.TypeReg)
}

// wantType fails unless hdr is of type want.
func wantType(hdr *tar.Header, want byte) error {
	if hdr.Typeflag == want {
		return nil
	}
	return fmt.Errorf("unsupported entry type %s for %q (expected %s): %w", fsx.TarTypeName(hdr.Typeflag), hdr.Name, fsx.TarTypeName(want), ErrInvalid)
}

func hasSparseRecords(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// maxOctalSize is the largest size a ustar header's 11 octal digits hold;
// writers put larger sizes only in a PAX record (and 0 in the field).
const maxOctalSize = 1<<33 - 1

// checkPAXSize refuses an entry whose PAX "size" record and ustar size
// field disagree (RELIABILITY I10): archive/tar silently takes the PAX
// value, another reader may take the field and read different bytes.
// raw is the entry's ustar header block as read.
func checkPAXSize(hdr *tar.Header, raw []byte) error {
	if _, ok := hdr.PAXRecords["size"]; !ok || len(raw) != blockSize {
		return nil
	}
	field, ok := parseTarNumber(raw[124:136])
	if ok && (field == hdr.Size || field == 0 && hdr.Size > maxOctalSize) {
		return nil
	}
	return fmt.Errorf("archive entry %q: PAX header says size %d, ustar header says %d: ambiguous: %w", hdr.Name, hdr.Size, field, ErrInvalid)
}

// parseTarNumber reads a ustar numeric field: octal digits (NUL or space
// terminated) or GNU base-256.
func parseTarNumber(b []byte) (int64, bool) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var n int64
		for i, c := range b {
			if i == 0 {
				c &= 0x7f
			}
			if n > 1<<55 {
				return 0, false
			}
			n = n<<8 | int64(c)
		}
		return n, true
	}
	s := strings.TrimRight(strings.TrimLeft(string(b), " "), " \x00")
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 8, 64)
	return n, err == nil
}

// nestedHint explains an entry outside the layout shape at the top of the
// archive, or returns "". An entry under DIR/ that is a layout's own
// (DIR/oci-layout, DIR/index.json, DIR/blobs) is a layout inside a
// directory — what `tar cf x.tar L` makes. A lone top-level directory
// entry may be that too (tar writes "L/" first) or a directory tarred
// beside the layout; the hint names both, since one entry cannot tell.
func nestedHint(hdr *tar.Header, parts []string) string {
	fix := fmt.Sprintf("make it from inside the layout (tar -C %q -cf FILE .) or with oci-pack export", parts[0])
	if len(parts) > 1 {
		switch parts[1] {
		case layout.LayoutFile, layout.IndexFile, layout.BlobsDir:
			return fmt.Sprintf("; the archive holds a layout inside the directory %q: %s", parts[0]+"/", fix)
		}
		return ""
	}
	if hdr.Typeflag != tar.TypeDir {
		return ""
	}
	return fmt.Sprintf("; a directory is no part of a layout: if %q holds the layout, %s; if it lies beside the layout's files, leave it out of the archive (only extra top-level files are allowed)", parts[0]+"/", fix)
}
