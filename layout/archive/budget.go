package archive

import "fmt"

// An import with no explicit budget leaves part of the free space of the
// layout's file system free: room for index.json's rewrite, staging and
// everything else on that file system. The reserve is proportional to the
// space there is (issue 12 class 9: a fixed 64 MiB refused a 14 KB import
// into a small file system): 1/ReserveShare of the free space, at least
// MinReserve and at most MaxReserve.
const (
	ReserveShare = 32
	MinReserve   = 1 << 20
	MaxReserve   = 64 << 20
)

// reserve is what an import leaves free of free bytes.
func reserve(free int64) int64 { return min(max(free/ReserveShare, MinReserve), MaxReserve) }

// budget returns how many bytes of archive stream an import may read
// beyond the blobs the layout already holds, how that was decided (the
// numbers, for the refusal), and the sentinel that going over it wraps.
// maxBytes > 0 is the caller's choice (ErrTooLarge); otherwise it is the
// free space of dir's file system minus reserve (ErrNoSpace) (RELIABILITY
// F-52, F-53, D-39).
func budget(dir string, maxBytes int64) (int64, string, error, error) {
	if maxBytes > 0 {
		return maxBytes, fmt.Sprintf("the budget of %d bytes given", maxBytes), ErrTooLarge, nil
	}
	free, err := freeSpace(dir)
	if err != nil {
		return 0, "", nil, fmt.Errorf("free space of %s: %w", dir, err)
	}
	if free < 0 {
		return 1<<63 - 1, "no limit known", ErrTooLarge, nil
	}
	r := reserve(free)
	return max(free-r, 0), fmt.Sprintf("%d bytes free in %s minus a reserve of %d bytes (1/%d of the free space, at least %d, at most %d)", free, dir, r, ReserveShare, int64(MinReserve), int64(MaxReserve)), ErrNoSpace, nil
}
