//go:build linux

package crash

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// traceCalls are the syscalls the fsync-order lint traces.
const traceCalls = "openat,write,pwrite64,copy_file_range,sendfile,ioctl,fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat,close,exit_group"

// TestFsyncOrder is section 5.2's fsync-order lint (I1, I3, I12): each
// command of the crash sweep (extract aside) runs under
// `strace -f -y`, with --format json so its result goes to stdout, and
// on the trace:
//
//  1. before every rename or link whose target is under blobs/, is
//     index.json or oci-layout, or is an export's final volume or
//     sidecar, the source file had an fsync after its last write;
//  2. after it, and before exit, the target's directory was fsynced;
//  3. the result on stdout is written after all of those fsyncs;
//
// and, for gc, every blob deleted is followed by an fsync of its
// directory before the result.
func TestFsyncOrder(t *testing.T) {
	st := strace(t)
	tp := newTemplate(t)
	for _, sc := range scenarios() {
		if strings.HasPrefix(sc.name, "extract") {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			dir := scratchDir(t)
			world := filepath.Join(dir, "w")
			sc.setup(t, tp, world)
			world, _ = filepath.EvalSymlinks(world) // -y prints real paths
			log := filepath.Join(dir, "t.log")
			args := append(sc.args(tp), "--format", "json")
			cmd := exec.Command(st, append([]string{"-f", "-y", "-qq", "-e", "signal=none", "-e", "trace=" + traceCalls,
				"-o", log, "--", rtest.Bin(t)}, args...)...)
			cmd.Dir = world
			cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("strace oci-pack %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			f, err := os.Open(log)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			calls, err := parseStrace(f)
			if err != nil {
				t.Fatalf("%s: %v", log, err)
			}
			res := lintFsyncOrder(calls, world, watched(world, sc))
			for _, p := range res.problems {
				t.Errorf("%s: %s", sc.name, p)
			}
			if res.published == 0 && res.deleted == 0 {
				t.Errorf("%s: the trace shows no rename into the layout or output and no blob deleted: nothing was checked", sc.name)
			}
			t.Logf("%s: %d renames/links into final names and %d blob deletions checked", sc.name, res.published, res.deleted)
		})
	}
}

// watched says which paths of world are final names for sc: the blob
// store, index.json and oci-layout of L, and every name under sc.out
// that is not scratch.
func watched(world string, sc scenario) func(string) bool {
	l := filepath.Join(world, "L")
	out := filepath.Join(world, sc.out)
	return func(p string) bool {
		switch {
		case strings.HasPrefix(p, l+"/blobs/"), p == l+"/index.json", p == l+"/oci-layout":
			return true
		case sc.out != "" && strings.HasPrefix(p, out+"/"):
			return sc.scratch == nil || !sc.scratch(strings.TrimPrefix(p, out+"/"))
		}
		return false
	}
}

// lintResult is what lintFsyncOrder found.
type lintResult struct {
	published int // renames and links onto final names checked
	deleted   int // blob deletions checked
	problems  []string
}

// lintFsyncOrder checks the fsync-order rules (see TestFsyncOrder) on a
// trace of a command run in cwd; final says which paths are final names.
func lintFsyncOrder(calls []call, cwd string, final func(string) bool) lintResult {
	var res lintResult
	bad := func(format string, args ...any) { res.problems = append(res.problems, fmt.Sprintf(format, args...)) }
	end := len(calls) + 1<<30 // no exit_group seen: the end of the log
	success := -1
	for _, c := range calls {
		if c.Name == "exit_group" && c.Start < end {
			end = c.Start
		}
		if success < 0 && (c.Name == "write" || c.Name == "pwrite64") && c.fd(0) == 1 && c.ok() {
			success = c.Start
		}
	}
	deadline, what := end, "exit"
	if success < 0 {
		bad("rule 3: no result written to stdout")
	} else {
		deadline, what = success, "the result on stdout (line "+fmt.Sprint(success)+")"
	}
	for _, c := range calls {
		if !c.ok() {
			continue
		}
		var src, dst string
		switch c.Name {
		case "rename", "link":
			src, dst = resolve(cwd, "", c, 0), resolve(cwd, "", c, 1)
		case "renameat", "renameat2", "linkat":
			src, dst = resolve(cwd, c.fdPath(0), c, 1), resolve(cwd, c.fdPath(2), c, 3)
		case "unlink":
			dst = resolve(cwd, "", c, 0)
		case "unlinkat":
			if strings.Contains(c.Raw(2), "AT_REMOVEDIR") {
				continue
			}
			dst = resolve(cwd, c.fdPath(0), c, 1)
		default:
			continue
		}
		if !final(dst) {
			continue
		}
		if src == "" {
			res.deleted++
		} else {
			res.published++
			if c.Start > deadline {
				bad("rule 3: %s of %s onto %s (line %d) after %s", c.Name, src, dst, c.Start, what)
			}
			if !fsyncedAfterLastWrite(calls, src, c.Start) {
				bad("rule 1: %s %s → %s (line %d): %s had no fsync after its last write", c.Name, src, dst, c.Start, src)
			}
		}
		dir := filepath.Dir(dst)
		if !fsyncBetween(calls, dir, c.End, deadline) {
			bad("rule 2: %s of %s (line %d): no fsync of %s after it and before %s", c.Name, dst, c.Start, dir, what)
		}
	}
	return res
}

// Raw is argument i as printed ("" if absent).
func (c call) Raw(i int) string {
	if i < len(c.Args) {
		return c.Args[i].Raw
	}
	return ""
}

// resolve is the path argument i of c names, relative to dirfd's path
// (or, when "" or AT_FDCWD without a path, to cwd).
func resolve(cwd, dirfd string, c call, i int) string {
	if i >= len(c.Args) {
		return ""
	}
	p := c.Args[i].Str
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if dirfd == "" {
		dirfd = cwd
	}
	return filepath.Join(dirfd, p)
}

// fsyncedAfterLastWrite says whether path was fsynced, successfully,
// after the last write to it that returned before line before, and
// before that line.
func fsyncedAfterLastWrite(calls []call, path string, before int) bool {
	lastWrite := 0
	for _, c := range calls {
		if c.writes() == path && c.End < before && c.End > lastWrite {
			lastWrite = c.End
		}
	}
	return fsyncBetween(calls, path, lastWrite, before)
}

// writes is the path of the file c writes bytes into ("" if none): write
// and pwrite64 to their fd, copy_file_range and sendfile (the kernel
// copies of a staged blob) to their output fd, ioctl FICLONE (a clone)
// to its target.
func (c call) writes() string {
	switch c.Name {
	case "write", "pwrite64", "sendfile":
		return c.fdPath(0)
	case "copy_file_range":
		return c.fdPath(2)
	case "ioctl":
		if strings.HasPrefix(c.Raw(1), "FICLONE") {
			return c.fdPath(0)
		}
	}
	return ""
}

// fsyncBetween says whether an fsync or fdatasync of path was issued
// after line after and returned, successfully, before line before.
func fsyncBetween(calls []call, path string, after, before int) bool {
	for _, c := range calls {
		if (c.Name == "fsync" || c.Name == "fdatasync") && c.fdPath(0) == path && c.ok() && c.Start > after && c.End < before {
			return true
		}
	}
	return false
}
