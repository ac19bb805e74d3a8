//go:build !windows

package extract

import (
	"strings"
)

// extractSeed is a layer as a fuzztest.TarScript and the mode to extract
// it with.
type extractSeed struct {
	script string
	mode   byte
}

// extractScripts are the fuzz targets' seeds: good artifact and image
// layers, and RELIABILITY E-46, E-47 and E-49's tricks (containerd's
// TestBreakouts, the oras-go and umoci advisories), with odd names (C-35).
func extractScripts() map[string]extractSeed {
	lines := func(ls ...string) string { return strings.Join(ls, "\n") }
	long := strings.Repeat("n", 255)
	artifact := map[string]string{
		"good":               lines("5|t/||", "0|t/a||hello", "0755|t/run.sh||#!/bin/sh", "5|t/sub/||", "0|t/sub/b||x", "2|t/l|a|", "1|t/h|t/a|", "2|t/sub/up|../a|"),
		"abs-symlink-file":   lines("5|t/||", "2|t/x|/etc|", "0|t/x/passwd||pwned"),
		"chain-escape":       lines("5|t/||", "2|t/a|b/..|", "2|t/b|../..|", "0|t/a/x||pwned"),
		"chain-via-link":     lines("5|t/||", "2|t/q|..|", "2|t/r|q/..|"),
		"symlink-dot":        lines("2|t/.|.|", "0|t/x||pwned"),
		"dir-then-symlink":   lines("5|t/||", "5|t/d/||", "2|t/d|e|", "0|t/d/x||pwned"),
		"dir-then-escape":    lines("5|t/||", "5|t/d/||", "2|t/d|../../outside/dir|", "0|t/d/x||pwned"),
		"through-inside":     lines("5|t/||", "5|t/real/||", "2|t/l|real|", "0|t/l/x||sneaky"),
		"hardlink-outside":   lines("5|t/||", "1|t/h|../../outside/passwd|"),
		"hardlink-cwd":       lines("5|t/||", "1|t/h|secret|"),
		"hardlink-symlink":   lines("5|t/||", "2|t/s|f|", "1|t/h|t/s|"),
		"hardlink-via-link":  lines("5|t/||", "5|t/sub/||", "0|t/sub/f||x", "2|t/s|sub|", "1|t/h|t/s/f|"),
		"absolute-name":      lines("0|/etc/x||pwned"),
		"dotdot-name":        lines("5|t/||", "0|t/../../x||pwned"),
		"outside-title":      lines("0|other/x||x"),
		"duplicate":          lines("0|t/x||1", "0|t/x||2"),
		"devices":            lines("5|t/||", "3|t/null||", "4|t/blk||", "6|t/p||"),
		"modes":              lines("51777|t/tmp/||", "04755|t/suid||x", "02755|t/sgid||x", "5500|t/ro/||", "0|t/ro/f||x", "0000|t/none||x"),
		"odd-names":          lines("5|t/||", "0|t/a\\b||x", "0|t/ x||x", "0|t/-x||x", "0|t/x.||x", "0|t/...||x", "0|t/a..b||x", "0|t/\xff\xfe||x", "0|t/C:\\x||x"),
		"case-and-nfc":       lines("5|t/||", "0|t/A.bin||1", "0|t/a.bin||2", "0|t/\u00e9||3", "0|t/e\u0301||4"),
		"long-names":         lines("5|t/||", "0|t/"+long+"||x", "0|t/"+long+"n||x", "0|t/"+strings.Repeat("d/", 2100)+"f||x"),
		"pax-global":         lines("g|pax_global_header||", "0|t/a||x"),
		"prefilled-conflict": lines("5|t/||", "0|t/a||new", "0|t/x||through-link", "5|t/sub/||", "0|t/sub/y||into-link-dir"),
		"file-then-dir":      lines("0|t/a||x", "5|t/a/||", "0|t/a/b||y"),
		"root-title-file":    lines("0|t||just a file"),
	}
	image := map[string]string{
		"image-good":        lines("5|etc/||", "0|etc/passwd||root:x:0:0", "2|bin|usr/bin|", "5|usr/bin/||", "0755|usr/bin/sh||elf", "1|usr/bin/ash|usr/bin/sh|", "2|etc/localtime|/usr/share/zoneinfo/UTC|"),
		"image-abs-through": lines("2|x|/etc|", "0|x/passwd||pwned"),
		"image-rel-escape":  lines("2|x|../../../../outside|", "0|x/secret||pwned"),
		"image-hardlink":    lines("1|h|../../outside/passwd|"),
		"image-whiteouts":   lines("0|a||x", "0|.wh.a||", "5|d/||", "0|d/.wh..wh..opq||", "0|../.wh.outside||", "0|.wh.||"),
		"image-root":        lines("2|.|/|", "0|.||file"),
		"image-devices":     lines("5|dev/||", "3|dev/null||", "6|dev/p||"),
		"image-prefilled":   lines("0|etc/passwd||pwned", "5|usr/||", "0|usr/x||pwned"),
		"image-link-to-dir": lines("5|d/||", "1|h|d|"),
		"image-empty-link":  lines("2|s||"),
		"image-long-name":   lines("0|" + long + "n||x"),
	}
	out := map[string]extractSeed{}
	for name, s := range artifact {
		out[name] = extractSeed{s, 0}
	}
	for name, s := range image {
		out[name] = extractSeed{s, modeImage}
	}
	return out
}
