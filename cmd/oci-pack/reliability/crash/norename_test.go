//go:build linux

package crash

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// TestNoReplaceFallback: where the kernel or file system has no
// renameat2(RENAME_NOREPLACE) (EINVAL, ENOSYS: FUSE, older NFS), the
// no-replace rename falls back to link-then-unlink (a directory: onto an
// empty directory made for it), and where there are no hard links either
// (EPERM: FAT, exFAT), to a check just before a plain rename. At every
// level, extract and export give exactly the uninterrupted outcome and
// leave no staging or .partial.
func TestNoReplaceFallback(t *testing.T) {
	st := strace(t)
	tp := newTemplate(t)
	levels := map[string][]string{
		"no renameat2":            {"-e", "inject=renameat2:error=EINVAL"},
		"no renameat2, no links":  {"-e", "inject=renameat2:error=ENOSYS", "-e", "inject=linkat:error=EPERM"},
		"renameat2 not supported": {"-e", "inject=renameat2:error=EOPNOTSUPP"},
	}
	for _, sc := range scenarios() {
		switch sc.name {
		case "extract", "extract-merge", "export", "export-split":
		default:
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dir := scratchDir(t)
			ex := expect(t, tp, sc, dir)
			for name, inject := range levels {
				t.Run(name, func(t *testing.T) {
					work := filepath.Join(dir, "w")
					resetWorld(t, ex, work)
					wrap := append(append([]string{st, "-f", "-qq", "-o", "/dev/null"}, inject...), "--")
					r := rtest.RunWith(t, rtest.Opts{Dir: work, Wrap: wrap}, ex.args...)
					if r.Code != 0 {
						t.Fatalf("%s under %s: %v", sc.name, name, r)
					}
					if got := sc.finals(work); !sameMap(got, ex.finals) {
						t.Errorf("the outputs differ from the uninterrupted run's: %s", diffMap(got, ex.finals))
					}
					for rel := range files(filepath.Join(work, sc.out), nil) {
						if strings.HasSuffix(rel, ".partial") || isExtractStaging(rel) {
							t.Errorf("%s/%s left", sc.out, rel)
						}
					}
				})
			}
		})
	}
}
