//go:build linux

package crash

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
)

// scenario is one command run against a layout "L" (and, for export and
// extract, an output under "out") in a world directory, its working
// directory. Inputs are absolute paths into the template.
type scenario struct {
	name string
	// args are the command line, given the template.
	args func(tp *template) []string
	// before builds the starting state in world (default: L is a copy
	// of the template's L0, and out/ exists).
	before func(t testing.TB, tp *template, world string)
	// fresh: L does not exist before the command.
	fresh bool
	// out is the directory, relative to the world, whose final names
	// the command writes ("": none).
	out string
	// scratch accepts the names under out a killed run may leave that
	// are not final names (X.partial, an extraction's staging).
	scratch func(rel string) bool
	// rotted, if set, names the blob (as blobSet keys it) that before
	// corrupted and the command repairs: after a kill it must hold the
	// rotten bytes or the right ones, nothing else (RELIABILITY I6).
	rotted func(tp *template) string
}

// scenarios are the commands of D-41, on the template.
func scenarios() []scenario {
	partial := func(rel string) bool { return strings.HasSuffix(rel, ".partial") }
	return []scenario{
		{name: "pack", args: func(tp *template) []string {
			return []string{"pack", "-q", "L:v2", tp.in("c.bin"), tp.in("b.bin"), tp.in("d"), "--artifact-type", artifactType}
		}},
		{name: "pack-new-layout", fresh: true, args: func(tp *template) []string {
			return []string{"pack", "-q", "L:v1", tp.in("b.bin"), tp.in("c.bin"), "--artifact-type", artifactType}
		}},
		{name: "tag", args: func(tp *template) []string {
			return []string{"tag", "-q", "L:v1", "t1", "t2", "t3"}
		}},
		{name: "import", args: func(tp *template) []string {
			return []string{"import", "-q", tp.GoodTar, "L"}
		}},
		{name: "gc", args: func(tp *template) []string { return []string{"gc", "-q", "L"} },
			before: func(t testing.TB, tp *template, world string) {
				l := filepath.Join(world, "L")
				copyTree(t, tp.L0, l)
				must(t, "untag", "-q", l+":v1") // a.bin, d/ and v1's manifest become garbage
				staleStaging(t, l)
			}},
		{name: "export", out: "out", scratch: partial, args: func(tp *template) []string {
			return []string{"export", "-q", "L:v1", "-o", "out/x.tar"}
		}},
		{name: "export-split", out: "out", scratch: partial, args: func(tp *template) []string {
			return []string{"export", "-q", "L", "-o", "out/s.tar", "--split-size", "1MiB"}
		}},
		{name: "import-repair", args: func(tp *template) []string {
			return []string{"import", "-q", tp.GoodTar, "L"}
		}, before: rotShared, rotted: sharedBlob},
		{name: "verify-repair", args: func(tp *template) []string {
			return []string{"verify", "-q", "L", "--repair", tp.GoodTar}
		}, before: rotShared, rotted: sharedBlob},
		{name: "extract", out: "out", args: func(tp *template) []string {
			return []string{"extract", "-q", "L:v1", "-o", "out/x"}
		}, scratch: func(rel string) bool { return isExtractStaging(rel) }},
		// Into a directory that exists with a subdirectory of the
		// artifact's: the commit merges, moving entries one by one with
		// no-replace renames, so a kill leaves some in place for the
		// re-run to recognise.
		{name: "extract-merge", out: "out", args: func(tp *template) []string {
			return []string{"extract", "-q", "L:v1", "-o", "out/x"}
		}, scratch: func(rel string) bool { return isExtractStaging(rel) },
			before: func(t testing.TB, tp *template, world string) {
				copyTree(t, tp.L0, filepath.Join(world, "L"))
				if err := os.MkdirAll(filepath.Join(world, "out", "x", "d"), 0o755); err != nil {
					t.Fatal(err)
				}
			}},
	}
}

func (tp *template) in(name string) string { return filepath.Join(tp.In, name) }

// isExtractStaging says whether rel (under out/) is inside an
// extraction's staging directory.
func isExtractStaging(rel string) bool {
	for _, c := range strings.Split(rel, "/") {
		if strings.HasPrefix(c, ".oci-pack-extract-") {
			return true
		}
	}
	return false
}

// staleStaging adds to layout l what killed processes leave: a staging
// directory of a dead process (with its lock file and a half-written
// blob) and a stray temp file of an interrupted layout creation.
func staleStaging(t testing.TB, l string) {
	t.Helper()
	dead := filepath.Join(l, ".oci-pack", "tmp", "999999-0123456789ab")
	writeFile(t, filepath.Join(dead, ".lock"), nil)
	writeFile(t, filepath.Join(dead, "blob-0011223344556677"), rtest.Bytes(5000, 7))
	writeFile(t, filepath.Join(l, ".oci-pack", "tmp", "index.json.init-abcdef012345"), []byte(`{"schemaVersion":2`))
}

// sharedBlob is b.bin's blob, which L0 and good.tar share.
func sharedBlob(*template) string {
	return "sha256/" + digest.FromBytes(rtest.Bytes(3000, 2)).Encoded()
}

// rotShared is L0 with b.bin's blob rotten: one byte flipped in place.
func rotShared(t testing.TB, tp *template, world string) {
	t.Helper()
	l := filepath.Join(world, "L")
	copyTree(t, tp.L0, l)
	p := filepath.Join(l, "blobs", filepath.FromSlash(sharedBlob(tp)))
	b := readFile(p)
	b[len(b)/2] ^= 0x10
	os.Chmod(p, 0o644)
	writeFile(t, p, b)
}

// setup builds sc's starting state in world.
func (sc scenario) setup(t testing.TB, tp *template, world string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(world, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	switch {
	case sc.before != nil:
		sc.before(t, tp, world)
	case !sc.fresh:
		copyTree(t, tp.L0, filepath.Join(world, "L"))
	}
}

// finals lists the final names under world/out (not scratch) with their
// content hashes.
func (sc scenario) finals(world string) map[string]string {
	if sc.out == "" {
		return nil
	}
	return files(filepath.Join(world, sc.out), sc.scratch)
}

// expected is what an uninterrupted run of a scenario gives.
type expected struct {
	before  string // a world in the starting state, copied for every run
	oldIdx  []byte // index.json before (nil: none)
	newIdx  []byte // index.json after
	finals  map[string]string
	afterGC map[string]string // the blob set after the command and a gc
	args    []string
	// rotted and rotten: the blob the command repairs and its content's
	// sha256 before (scenario.rotted).
	rotted, rotten string
}

// expect builds sc's starting state under dir and runs sc once, on a
// copy, to learn the outcome every interrupted run is held to. It runs
// twice and checks both runs agree, so a difference after a crash is
// never noise.
func expect(t testing.TB, tp *template, sc scenario, dir string) *expected {
	t.Helper()
	ex := &expected{before: filepath.Join(dir, "before"), args: sc.args(tp)}
	sc.setup(t, tp, ex.before)
	ex.oldIdx = readFile(filepath.Join(ex.before, "L", "index.json"))
	if sc.rotted != nil {
		ex.rotted = sc.rotted(tp)
		ex.rotten = blobSet(filepath.Join(ex.before, "L"))[ex.rotted]
	}
	for i := range 2 {
		w := filepath.Join(dir, "ref", string(rune('a'+i)))
		copyTree(t, ex.before, w)
		r := rtest.RunIn(t, w, ex.args...)
		if r.Code != 0 {
			t.Fatalf("uninterrupted %s: %v", sc.name, r)
		}
		idx, fin := readFile(filepath.Join(w, "L", "index.json")), sc.finals(w)
		if r := rtest.RunIn(t, w, "gc", "-q", "L"); r.Code != 0 {
			t.Fatalf("gc after %s: %v", sc.name, r)
		}
		if i == 0 {
			ex.newIdx, ex.finals, ex.afterGC = idx, fin, blobSet(filepath.Join(w, "L"))
			continue
		}
		if !bytes.Equal(idx, ex.newIdx) || !sameMap(fin, ex.finals) || !sameMap(blobSet(filepath.Join(w, "L")), ex.afterGC) {
			t.Fatalf("%s is not reproducible: two uninterrupted runs differ\n%s\n%s", sc.name, ex.newIdx, idx)
		}
		os.RemoveAll(filepath.Join(dir, "ref"))
	}
	return ex
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// diffMap describes how got differs from want, for messages.
func diffMap(got, want map[string]string) string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+k)
		} else if g != v {
			out = append(out, "changed "+k+": "+g)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+k+": "+v)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
