package archive

import "fmt"

// FreeSpaceReserve is what an import leaves free on the layout's file
// system when no explicit budget is given.
const FreeSpaceReserve = 64 << 20

// budget returns how many bytes of archive stream an import may read
// beyond the blobs the layout already holds, and how that was decided.
// maxBytes > 0 is the caller's choice; otherwise it is the free space of
// dir's file system minus FreeSpaceReserve (RELIABILITY F-52, F-53).
func budget(dir string, maxBytes int64) (int64, string, error) {
	if maxBytes > 0 {
		return maxBytes, fmt.Sprintf("the --max-bytes budget of %d", maxBytes), nil
	}
	free, err := freeSpace(dir)
	if err != nil {
		return 0, "", fmt.Errorf("free space of %s: %w", dir, err)
	}
	if free < 0 {
		return 1<<63 - 1, "no limit known", nil
	}
	return max(free-FreeSpaceReserve, 0), fmt.Sprintf("%d bytes free in %s minus a %d byte reserve", free, dir, int64(FreeSpaceReserve)), nil
}
