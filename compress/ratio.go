package compress

// MinSize is a lower bound on the size a's output can have for n bytes of
// input, from the codec's format alone: deflate cannot code more than 258
// bytes in the fewest bits one match takes (about 1032:1), and a zstd RLE
// block codes at most 128 KiB in 4 bytes (32768:1). Plans use it to refuse
// what cannot fit before anything is written (an export split into more
// volumes than names allow).
func (a Algorithm) MinSize(n int64) int64 {
	switch a {
	case Gzip:
		return n / 1032
	case Zstd:
		return n / 32768
	}
	return n
}
