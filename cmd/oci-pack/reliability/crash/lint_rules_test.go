//go:build linux

package crash

import (
	"strings"
	"testing"
)

// The lint flags each broken rule: a blob renamed without an fsync after
// its last write, no directory fsync after the rename, and the result
// printed before the directory fsync; and accepts the right order.
func TestLintFsyncOrderRules(t *testing.T) {
	const (
		open   = "1 openat(13</w/L/.oci-pack/tmp/s>, \"blob-1\", O_RDWR|O_CREAT|O_EXCL) = 14</w/L/.oci-pack/tmp/s/blob-1>\n"
		write  = "1 write(14</w/L/.oci-pack/tmp/s/blob-1>, \"abc\", 3) = 3\n"
		fsync  = "1 fsync(14</w/L/.oci-pack/tmp/s/blob-1>) = 0\n"
		rename = "1 renameat(13</w/L/.oci-pack/tmp/s>, \"blob-1\", 15</w/L/blobs/sha256>, \"ba7816bf\") = 0\n"
		dsync  = "2 fsync(16</w/L/blobs/sha256>) = 0\n"
		result = "1 write(1<pipe:[7]>, \"sha256:ba7816bf\\n\", 16) = 16\n"
		exit   = "1 exit_group(0) = ?\n"
	)
	final := func(p string) bool { return strings.HasPrefix(p, "/w/L/blobs/") }
	cases := []struct {
		name, log, rule string
	}{
		{"good", open + write + fsync + rename + dsync + result + exit, ""},
		{"no-file-fsync", open + write + rename + dsync + result + exit, "rule 1"},
		{"write-after-fsync", open + write + fsync + write + rename + dsync + result + exit, "rule 1"},
		{"no-dir-fsync", open + write + fsync + rename + result + exit, "rule 2"},
		{"dir-fsync-before-rename", open + write + fsync + dsync + rename + result + exit, "rule 2"},
		{"result-first", open + write + fsync + rename + result + dsync + exit, "rule 2"},
		{"rename-after-result", open + write + fsync + result + rename + dsync + exit, "rule 3"},
		{"no-result", open + write + fsync + rename + dsync + exit, "rule 3"},
		{"failed-dir-fsync", open + write + fsync + rename + strings.Replace(dsync, "= 0", "= -1 EIO (Input/output error)", 1) + result + exit, "rule 2"},
	}
	for _, c := range cases {
		calls, err := parseStrace(strings.NewReader(c.log))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		res := lintFsyncOrder(calls, "/w", final)
		got := strings.Join(res.problems, "\n")
		if res.published != 1 {
			t.Errorf("%s: %d renames checked, want 1", c.name, res.published)
		}
		if c.rule == "" && got != "" || c.rule != "" && !strings.Contains(got, c.rule) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.rule)
		}
	}
}
