package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSize parses a byte count: plain bytes, or a number with a unit —
// K, M, G, T and KiB, MiB, GiB, TiB are powers of 1024 (as GNU split
// reads them), KB, MB, GB, TB powers of 1000. It is the one parser of
// every size flag.
func parseSize(s string) (int64, error) {
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToUpper(strings.TrimSpace(s[len(num):]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	mult := map[string]int64{
		"": 1, "B": 1,
		"K": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
		"M": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
		"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
	}[unit]
	if mult == 0 || n > (1<<63-1)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// sizeFlag is a pflag.Value for a byte count with units (parseSize);
// words maps extra spellings ("-1", "none") to fixed values.
type sizeFlag struct {
	n     int64
	set   bool
	words map[string]int64
}

func (f *sizeFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatInt(f.n, 10)
}

func (f *sizeFlag) Set(s string) error {
	if v, ok := f.words[strings.ToLower(s)]; ok {
		f.n, f.set = v, true
		return nil
	}
	n, err := parseSize(s)
	if err != nil {
		return fmt.Errorf("want a size like 10GiB, 500MiB, 4G or 1000000")
	}
	f.n, f.set = n, true
	return nil
}

func (f *sizeFlag) Type() string { return "size" }
