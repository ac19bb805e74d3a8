package archive

import "fmt"

// FreeSpaceReserve is what an import leaves free on the layout's file
// system when no explicit budget is given.
const FreeSpaceReserve = 64 << 20

// budget returns how many bytes of archive stream an import may read
// beyond the blobs the layout already holds, how that was decided, and the
// sentinel that going over it wraps. maxBytes > 0 is the caller's choice
// (ErrTooLarge); otherwise it is the free space of dir's file system minus
// FreeSpaceReserve (ErrNoSpace) (RELIABILITY F-52, F-53, D-39).
func budget(dir string, maxBytes int64) (int64, string, error, error) {
	if maxBytes > 0 {
		return maxBytes, fmt.Sprintf("the --max-bytes budget of %d", maxBytes), ErrTooLarge, nil
	}
	free, err := freeSpace(dir)
	if err != nil {
		return 0, "", nil, fmt.Errorf("free space of %s: %w", dir, err)
	}
	if free < 0 {
		return 1<<63 - 1, "no limit known", ErrTooLarge, nil
	}
	return max(free-FreeSpaceReserve, 0), fmt.Sprintf("%d bytes free in %s minus a %d byte reserve", free, dir, int64(FreeSpaceReserve)), ErrNoSpace, nil
}
