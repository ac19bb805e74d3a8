package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/klauspost/reedsolomon"
	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// Parity volumes (export --parity N) let a volume set survive the loss of
// up to N of its volumes, data or parity. The code is Reed-Solomon over
// GF(2^8) with the data volumes FILE.000, FILE.001, … as its data shards,
// unchanged: byte i of parity volume p is a combination of byte i of
// every data volume, the last (shorter) data volume padded virtually with
// zeros. Its coding matrix is the Cauchy matrix
//
//	C[p][j] = 1 / ((255 − p) XOR j)   (p < MaxParity, j < MaxParityData)
//
// whose column j does not depend on how many data volumes there are: the
// exporter can add each volume's share to the parity while it streams,
// before it knows whether that volume is the last. Every square submatrix
// of a Cauchy matrix is invertible, so any k of the k+N volumes rebuild
// the others.
//
// A parity volume FILE.parP holds the parity shard (exactly as long as
// data volume 0), then a JSON trailer describing the set (the data
// volumes' names, sizes and digests, P, N, the shard size), then a
// 32-byte footer: magic, version, trailer length and a checksum of the
// trailer. The trailer makes parity volumes self-describing: a set can be
// repaired when the sidecar is lost too, and parity written for other
// data (another export, a renamed or copied parity volume) is recognised.
const (
	// MaxParity is the most parity volumes one export may have.
	MaxParity = 32
	// MaxParityData is the most data volumes an export with parity may
	// have: the Cauchy matrix's two index sets must not overlap in the
	// 256 elements of GF(2^8).
	MaxParityData = 256 - MaxParity
	// ParitySuffix starts a parity volume's suffix: FILE.par0, FILE.par1, …
	ParitySuffix = ".par"

	parityFormat  = "oci-pack-parity/v1"
	parityCode    = "reed-solomon/gf256/cauchy-255-p-xor-j"
	parityMagic   = "OCIPKPAR"
	parityVersion = 1
	footerSize    = 32
	// maxTrailer bounds a parity volume's trailer (MaxParityData volumes
	// at ~150 bytes each fit with room to spare).
	maxTrailer = 256 << 10
	// parityChunk is the unit of parity work: one chunk of each shard in
	// memory at a time.
	parityChunk = 1 << 20
)

// parityName matches a parity volume's name: FILE.parP.
var parityName = regexp.MustCompile(`^(.+)\.par([0-9]{1,2})$`)

// ParityPath is the name of parity volume p of the volume set base.
func ParityPath(base string, p int) string { return base + ParitySuffix + strconv.Itoa(p) }

// isParityName reports whether name (a base name) is a parity volume's.
func isParityName(name string) bool { return parityName.MatchString(name) }

// parityMatrix is the coding matrix's parity part for n parity and k data
// shards (see the package comment above).
func parityMatrix(n, k int) [][]byte {
	m := make([][]byte, n)
	for p := range m {
		m[p] = make([]byte, k)
		for j := range m[p] {
			m[p][j] = reedsolomon.Inv(byte(255-p) ^ byte(j))
		}
	}
	return m
}

// newParityCodec is the code for k data and n parity shards.
func newParityCodec(k, n int) (reedsolomon.Encoder, error) {
	if k < 1 || k > MaxParityData || n < 1 || n > MaxParity {
		return nil, fmt.Errorf("parity code for %d data and %d parity volumes: outside 1..%d and 1..%d", k, n, MaxParityData, MaxParity)
	}
	return reedsolomon.New(k, n, reedsolomon.WithCustomMatrix(parityMatrix(n, k)))
}

// parityVolume is one volume as a parity trailer lists it.
type parityVolume struct {
	Name   string        `json:"name"`
	Size   int64         `json:"size"`
	Digest digest.Digest `json:"digest"`
}

// parityTrailer describes a parity volume's set.
type parityTrailer struct {
	Format    string         `json:"format"`
	Code      string         `json:"code"`
	Index     int            `json:"index"`
	Parity    int            `json:"parity"`
	ShardSize int64          `json:"shardSize"`
	Volumes   []parityVolume `json:"volumes"`
}

// encodeTrailer renders t followed by the footer.
func encodeTrailer(t *parityTrailer) []byte {
	b := mustMarshal(t)
	sum := sha256.Sum256(b)
	var foot [footerSize]byte
	copy(foot[:8], parityMagic)
	binary.BigEndian.PutUint32(foot[8:12], parityVersion)
	binary.BigEndian.PutUint32(foot[12:16], uint32(len(b)))
	copy(foot[16:], sum[:16])
	return append(b, foot[:]...)
}

// sameSet reports whether t and u describe the same set (they may differ
// only in Index).
func (t *parityTrailer) sameSet(u *parityTrailer) bool {
	if t.Parity != u.Parity || t.ShardSize != u.ShardSize || len(t.Volumes) != len(u.Volumes) {
		return false
	}
	for i := range t.Volumes {
		if t.Volumes[i] != u.Volumes[i] {
			return false
		}
	}
	return true
}

// readTrailer reads the trailer of the parity volume f (of size size) and
// checks it: footer magic, version and checksum, strict JSON, and a
// geometry that adds up (the file is exactly shard + trailer + footer,
// the volumes are named as volumes of one set, all but the last as long
// as the shard). Errors say what is wrong, without a sentinel.
func readTrailer(f io.ReaderAt, size int64) (*parityTrailer, error) {
	if size < footerSize {
		return nil, fmt.Errorf("%d bytes, too short for a parity volume (truncated?)", size)
	}
	var foot [footerSize]byte
	if _, err := f.ReadAt(foot[:], size-footerSize); err != nil {
		return nil, fmt.Errorf("read footer: %w", err)
	}
	if string(foot[:8]) != parityMagic {
		return nil, fmt.Errorf("no parity footer at its end (truncated, or not a parity volume)")
	}
	if v := binary.BigEndian.Uint32(foot[8:12]); v != parityVersion {
		return nil, fmt.Errorf("parity format version %d, this oci-pack reads %d", v, parityVersion)
	}
	n := int64(binary.BigEndian.Uint32(foot[12:16]))
	if n > maxTrailer || n > size-footerSize {
		return nil, fmt.Errorf("footer declares a %d byte trailer (limit %d, file %d bytes)", n, maxTrailer, size)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, size-footerSize-n); err != nil {
		return nil, fmt.Errorf("read trailer: %w", err)
	}
	if sum := sha256.Sum256(b); !bytes.Equal(sum[:16], foot[16:]) {
		return nil, fmt.Errorf("trailer checksum mismatch (corrupted)")
	}
	var t parityTrailer
	if err := strictjson.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("trailer: %v", err)
	}
	if err := t.check(size - footerSize - n); err != nil {
		return nil, err
	}
	return &t, nil
}

// check validates the trailer's geometry against the shard bytes the
// file holds.
func (t *parityTrailer) check(shard int64) error {
	switch {
	case t.Format != parityFormat || t.Code != parityCode:
		return fmt.Errorf("format %q code %q, this oci-pack reads %q with %q", t.Format, t.Code, parityFormat, parityCode)
	case t.Parity < 1 || t.Parity > MaxParity || t.Index < 0 || t.Index >= t.Parity:
		return fmt.Errorf("parity volume %d of %d: out of range (1..%d)", t.Index, t.Parity, MaxParity)
	case len(t.Volumes) < 1 || len(t.Volumes) > MaxParityData:
		return fmt.Errorf("lists %d data volumes, expected 1..%d", len(t.Volumes), MaxParityData)
	case t.ShardSize != shard || shard < 1:
		return fmt.Errorf("holds %d parity bytes, its trailer says %d (truncated?)", shard, t.ShardSize)
	}
	base := ""
	for j, v := range t.Volumes {
		m := volumeName.FindStringSubmatch(v.Name)
		if m == nil || v.Name != filepath.Base(v.Name) || m[2] != fmt.Sprintf("%03d", j) || (base != "" && m[1] != base) {
			return fmt.Errorf("lists %q as data volume %d", v.Name, j)
		}
		base = m[1]
		last := j == len(t.Volumes)-1
		if v.Size > t.ShardSize || v.Size < 0 || (!last && v.Size != t.ShardSize) || (j == 0 && v.Size != t.ShardSize) {
			return fmt.Errorf("data volume %s of %d bytes does not fit shards of %d bytes", v.Name, v.Size, t.ShardSize)
		}
		if v.Digest.Algorithm() != digest.SHA256 || v.Digest.Validate() != nil {
			return fmt.Errorf("data volume %s: invalid digest %q", v.Name, v.Digest)
		}
	}
	return nil
}

// openTrailer opens path (a regular file only) and reads its trailer.
func openTrailer(path string) (*parityTrailer, int64, error) {
	f, err := openRegularPath(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	t, err := readTrailer(f, fi.Size())
	return t, fi.Size(), err
}

// openRegularPath opens path for reading if it is a regular file (a
// symlink to one is followed, as for volumes), never blocking on a FIFO
// swapped in after the check (RELIABILITY I15).
func openRegularPath(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", path, fsx.ErrNotRegular, fsx.FileKind(fi.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|fsx.ONonblock, 0)
	if err != nil {
		return nil, err
	}
	if after, err := f.Stat(); err != nil || !os.SameFile(fi, after) {
		f.Close()
		return nil, fmt.Errorf("%s: %w (replaced while opening)", path, fsx.ErrNotRegular)
	}
	return f, nil
}
