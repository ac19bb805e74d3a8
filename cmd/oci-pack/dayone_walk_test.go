//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
)

// The first day at a real site (issue 14), walked seam by seam with the
// built binary, as "How this is judged" says.

// pathsUnder names every path under dir, for "created nothing" checks.
func pathsUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func blobFiles(t *testing.T, l string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(l, "blobs", "sha256", "*"))
	return len(m)
}

// Seam 1: registry-looking references and other tools' prefixes create
// nothing and exit 2 with what to type; an existing directory of that
// name still works; x:y:z with both x and x:y directories is ambiguous.
func TestDayOneRegistryReferences(t *testing.T) {
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "f"), []byte("weights"), 0o644)
	before := pathsUnder(t, work)
	for _, c := range []struct{ ref, says string }{
		{"localhost:5000/models:v1", "looks like a registry reference"},
		{"localhost/models:v1", "looks like a registry reference"},
		{"registry.local/team/models:v1", "looks like a registry reference"},
		{"docker.io/library/x:v1", "./docker.io/library/x:v1"},
		{"10.0.0.1:5000/x:v1", "to push, use `oci-pack push LAYOUT:TAG 10.0.0.1:5000/x:v1`"},
		{"oci:U:v1", "oci-pack takes the layout directory without a prefix: U:v1"},
		{"docker://reg.io/x:v1", "registry reference"},
		{"oci-archive:x.tar:v1", "oci-pack export"},
	} {
		expect(t, work, exitUsage, []string{c.says}, "pack", c.ref, "f", "--artifact-type", artifactType)
	}
	for _, args := range [][]string{
		{"inspect", "ghcr.io/org/model:v1"},
		{"ls", "registry.local/models"},
		{"import", "x.tar", "localhost:5000/models"},
		{"init", "oci:models"},
	} {
		expect(t, work, exitUsage, []string{"not a layout directory"}, args...)
	}
	if after := pathsUnder(t, work); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("registry-looking references created %q", after)
	}
	// An existing directory of that name still works, and ./ makes a new one.
	os.MkdirAll(filepath.Join(work, "docker.io", "library"), 0o755)
	must(t, work, "pack", "./docker.io/library/x:v1", "f", "--artifact-type", artifactType)
	must(t, work, "pack", "docker.io/library/x:v2", "f", "--artifact-type", artifactType)
	must(t, work, "verify", "docker.io/library/x:v2")
	// x:y:z with x and x:y both directories.
	os.MkdirAll(filepath.Join(work, "x"), 0o755)
	os.MkdirAll(filepath.Join(work, "x:y"), 0o755)
	expect(t, work, exitUsage, []string{"ambiguous", "x and x:y"}, "pack", "x:y:z", "f", "--artifact-type", artifactType)
	// The one rule (registry.IsReference) as the commands apply it: an
	// existing directory is a layout, for copy too.
	for ref, want := range map[string]bool{
		"localhost:5000/x": true, "localhost/x": true, "a.b/x": true, "[::1]:5000/x": true, "host:1/x": true,
		"./a.b/x": false, "../x/y": false, ".cache/x": false, "models": false, "models.v2": false, "/abs/x": false, "C:/x": false, "dir/x:v1": false,
		"docker.io/library/x:v2": false, // exists here
	} {
		old, _ := os.Getwd()
		os.Chdir(work)
		got, _ := remoteRef(ref)
		os.Chdir(old)
		if got != want {
			t.Errorf("remoteRef(%q) = %v, want %v", ref, got, want)
		}
	}
	r := must(t, work, "copy", "docker.io/library/x:v2", "L:v2")
	if !strings.Contains(r.stderr, "docker.io/library/x is an existing directory, used as the layout") {
		t.Errorf("copy from an existing directory that looks like a registry: %v", r)
	}
}

// Seam 2: what the arguments and index.json decide is decided before the
// first byte is hashed.
func TestDayOneDecidedFirst(t *testing.T) {
	work, old := packed(t)
	big := filepath.Join(work, "big")
	os.MkdirAll(big, 0o755)
	for i := range 4 {
		f, _ := os.Create(filepath.Join(big, fmt.Sprintf("w%d.bin", i)))
		f.Truncate(16 << 20)
		f.Close()
	}
	n := blobFiles(t, filepath.Join(work, "L"))
	// No --artifact-type: no new layout, no new blob.
	expect(t, work, exitUsage, []string{"--artifact-type"}, "pack", "X:v1", "big", "--compression", "zstd")
	if _, err := os.Stat(filepath.Join(work, "X")); !os.IsNotExist(err) {
		t.Fatalf("a usage error created the layout X (%v)", err)
	}
	expect(t, work, exitUsage, []string{"--artifact-type"}, "pack", "L:v9", "big", "--compression", "zstd")
	// The tag exists: refused before reading (exit 4), nothing stored.
	expect(t, work, exitConflict, []string{`tag "v1"`, old, "not packing (no input was read)", "--tag-conflict overwrite"},
		"pack", "L:v1", "big", "--compression", "zstd", "--artifact-type", artifactType)
	if got := blobFiles(t, filepath.Join(work, "L")); got != n {
		t.Fatalf("refused packs stored %d blob file(s)", got-n)
	}
	// --tag-conflict skip: nothing to do, the tagged digest printed.
	r := must(t, work, "pack", "L:v1", "big", "--artifact-type", artifactType, "--tag-conflict", "skip")
	if strings.TrimSpace(r.stdout) != old || !strings.Contains(r.stderr, "nothing packed") || blobFiles(t, filepath.Join(work, "L")) != n {
		t.Fatalf("skip: %v", r)
	}
	// A mistyped :MEDIATYPE says which part failed.
	expect(t, work, exitUsage, []string{"the path src/a.bin exists", `"application-octet-stream"`}, "pack", "L:v9", "src/a.bin:application-octet-stream", "--artifact-type", artifactType)
	// A failed pack into a new layout leaves nothing behind.
	expect(t, work, exitFailure, []string{"no-such-input"}, "pack", "New:v1", "no-such-input", "--artifact-type", artifactType)
	if _, err := os.Stat(filepath.Join(work, "New")); !os.IsNotExist(err) {
		t.Fatalf("a failed pack left the new layout New (%v)", err)
	}
}

// umaskTree makes the same small tree under umask u with the shell, as a
// clone would.
func umaskTree(t *testing.T, dir, u string) {
	t.Helper()
	script := fmt.Sprintf("umask %s && mkdir -p %s/model/sub && printf w > %s/model/sub/w.bin && printf '#!/bin/sh\\n' > %s/model/run.sh && chmod +x %s/model/run.sh", u, dir, dir, dir, dir)
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// Seam 3: the same directory packed under umask 022 and 002 gives one
// digest; --preserve-mode keeps the bits (and so differs).
func TestDayOneUmask(t *testing.T) {
	work := t.TempDir()
	digests := map[string]string{}
	for _, u := range []string{"022", "002"} {
		d := filepath.Join(work, u)
		umaskTree(t, d, u)
		for _, extra := range [][]string{nil, {"--preserve-mode"}} {
			args := append([]string{"pack", "../L" + u + ":v1", "model", "--artifact-type", artifactType, "--tag-conflict", "overwrite"}, extra...)
			digests[u+strings.Join(extra, "")] = strings.TrimSpace(must(t, d, args...).stdout)
		}
	}
	if digests["022"] != digests["002"] {
		t.Errorf("umask 022 gives %s, 002 gives %s", digests["022"], digests["002"])
	}
	if digests["022--preserve-mode"] == digests["002--preserve-mode"] {
		t.Error("--preserve-mode: umask 022 and 002 give the same digest")
	}
}

// Seam 4: inspect lists every descriptor the manifest lists.
func TestDayOneInspectEveryLayer(t *testing.T) {
	work := t.TempDir()
	for _, n := range []string{"a.bin", "b.bin"} {
		os.WriteFile(filepath.Join(work, n), []byte("same bytes"), 0o644)
	}
	must(t, work, "pack", "L:twins", "a.bin", "b.bin", "--artifact-type", artifactType)
	must(t, work, "pack", "L:empty", "--artifact-type", artifactType)
	for tag, want := range map[string]int{"twins": 2, "empty": 1} {
		var tree struct {
			Document struct{ Layers []json.RawMessage }
			Children []struct {
				Role     string
				RepeatOf string
			}
		}
		r := must(t, work, "inspect", "L:"+tag, "--format", "json")
		if err := json.Unmarshal([]byte(r.stdout), &tree); err != nil {
			t.Fatal(err)
		}
		layers := 0
		for _, c := range tree.Children {
			if strings.HasPrefix(c.Role, "layer ") {
				layers++
			}
		}
		if len(tree.Document.Layers) != want || layers != want || tree.Children[len(tree.Children)-1].RepeatOf == "" {
			t.Errorf("inspect L:%s: %d layers in the manifest, %d in the tree (%+v); want %d, the last a repeat", tag, len(tree.Document.Layers), layers, tree.Children, want)
		}
		text := must(t, work, "inspect", "L:"+tag).stdout
		if strings.Count(text, "  layer ") != want || !strings.Contains(text, "(same as ") {
			t.Errorf("inspect L:%s text:\n%s", tag, text)
		}
		if r.stderr != "" && strings.Contains(r.stderr, "Harbor") {
			t.Errorf("inspect without --harbor warns about Harbor: %s", r.stderr)
		}
	}
	if r := must(t, work, "inspect", "L:empty", "--harbor"); !strings.Contains(r.stderr, "Harbor will show type UNKNOWN") {
		t.Errorf("inspect --harbor: %v", r)
	}
}

// Seam 5: tag, untag and init print JSON that parses (every command's
// JSON is validated against its schema in TestJSONSchemas).
func TestDayOneJSON(t *testing.T) {
	work, d := packed(t)
	var lines []struct{ Reference, Tag, Digest string }
	for _, args := range [][]string{{"tag", "L:v1", "latest", "L:stable"}, {"untag", "L:latest", "stable"}} {
		if err := json.Unmarshal([]byte(must(t, work, append(args, "--format", "json")...).stdout), &lines); err != nil || len(lines) != 2 || lines[0].Digest != d || lines[1].Reference != "L:stable" {
			t.Fatalf("%v --format json: %+v, %v", args, lines, err)
		}
	}
	var ini struct {
		Layout  string
		Created bool
	}
	if err := json.Unmarshal([]byte(must(t, work, "init", "M", "--format", "json").stdout), &ini); err != nil || !ini.Created || ini.Layout != "M" {
		t.Fatalf("init --format json: %+v, %v", ini, err)
	}
	// Completion offers flag values and hides referrers tags.
	os.WriteFile(filepath.Join(work, "sbom.json"), []byte("{}"), 0o644)
	must(t, work, "attach", "L:v1", "sbom.json", "--artifact-type", "application/spdx+json")
	r := must(t, work, "__complete", "L:")
	if strings.Contains(r.stdout, "sha256-") || !strings.Contains(r.stdout, "L:v1") {
		t.Errorf("tags offered: %q", r.stdout)
	}
	script := must(t, work, "completion", "bash").stdout
	for _, want := range []string{`"pack --compression") COMPREPLY=($(compgen -W "auto none gzip zstd"`, `"import --tag-conflict"`, `"pack --preset"`, `--format") COMPREPLY=($(compgen -W "text json"`} {
		if !strings.Contains(script, want) {
			t.Errorf("bash completion lacks %s", want)
		}
	}
}

// Seam 6: a command waiting for a lock says once who holds it.
func TestDayOneLockWait(t *testing.T) {
	work, _ := packed(t)
	l, err := layout.Open(filepath.Join(work, "L"), layout.Options{Mode: layout.Exclusive})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := expect(t, work, exitConflict, []string{"locked", "--lock-timeout"}, "tag", "L:v1", "v2", "--lock-timeout", "500ms")
	want := fmt.Sprintf("is locked by pid %d", os.Getpid())
	if strings.Count(r.stderr, want) != 1 || strings.Count(r.stderr, "waiting up to 500ms") != 1 {
		t.Fatalf("stderr %q: want one notice %q, waiting up to 500ms", r.stderr, want)
	}
	if r := expect(t, work, exitConflict, nil, "tag", "L:v1", "v2", "--no-wait"); strings.Contains(r.stderr, "waiting") {
		t.Errorf("--no-wait says it waits: %s", r.stderr)
	}
	l.Close()
	// Without a terminal: one line per finished item; none with -q.
	r = must(t, work, "pack", "L:v3", "src/a.bin", "src/b.bin", "--artifact-type", artifactType)
	if !strings.Contains(r.stderr, "done src/a.bin (4 B)") || !strings.Contains(r.stderr, "done src/b.bin (4 B)") {
		t.Errorf("pack stderr %q lacks a line per finished layer", r.stderr)
	}
	if r := must(t, work, "verify", "L", "-q"); r.stderr != "" {
		t.Errorf("verify -q printed %q", r.stderr)
	}
}

// Seam 7: one grammar, units on every size flag, one conflict vocabulary.
func TestDayOneGrammar(t *testing.T) {
	work, d := packed(t)
	must(t, work, "verify", "L:v1")
	must(t, work, "verify", "L@"+d)
	r := must(t, work, "verify", "L", "v1")
	if !strings.Contains(r.stderr, "deprecated") || !strings.Contains(r.stderr, "'verify L:v1'") {
		t.Errorf("verify L v1: %v; want a deprecation note", r)
	}
	expect(t, work, 1, []string{`tag "nope"`}, "verify", "L:nope")
	must(t, work, "tag", "L:v1", "L:v2")
	must(t, work, "untag", "L:v2")
	expect(t, work, exitUsage, []string{"same layout"}, "export", "L:v1", "M:v1", "-o", "x.tar")
	must(t, work, "extract", "L:v1", "-o", "out", "--max-bytes", "10MiB")
	expect(t, work, exitUsage, []string{"--max-bytes", "want a size like"}, "extract", "L:v1", "-o", "out2", "--max-bytes", "ten")
	// --force still works, with a note; it contradicts other policies.
	os.WriteFile(filepath.Join(work, "src", "c.bin"), []byte("cccc"), 0o644)
	r = must(t, work, "pack", "L:v1", "src/c.bin", "--artifact-type", artifactType, "--force")
	if !strings.Contains(r.stderr, "--force is deprecated; use --tag-conflict overwrite") {
		t.Errorf("--force: %v", r)
	}
	expect(t, work, exitUsage, []string{"--force means --tag-conflict overwrite"}, "tag", "L:v1", "v3", "--force", "--tag-conflict", "skip")
	r = must(t, work, "tag", "L@"+d, "v1", "--tag-conflict", "skip", "--format", "json")
	if !strings.Contains(r.stdout, `"skipped": true`) {
		t.Errorf("tag --tag-conflict skip: %v", r)
	}
}

// Seam 8: noise and hints.
func TestDayOneHints(t *testing.T) {
	work, _ := packed(t)
	must(t, work, "pack", "L:a-last", "src/a.bin", "--artifact-type", artifactType)
	must(t, work, "pack", "L:0-first", "src/b.bin", "--artifact-type", artifactType)
	must(t, work, "index", "L:bundle", "L:v1", "0-first", "--artifact-type", "application/vnd.acme.bundle.v1")
	var rows []struct {
		Tag  string
		Size int64
	}
	json.Unmarshal([]byte(must(t, work, "ls", "L", "--format", "json").stdout), &rows)
	var names []string
	size := map[string]int64{}
	for _, r := range rows {
		names = append(names, r.Tag)
		size[r.Tag] = r.Size
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("ls not sorted by tag: %q", names)
	}
	if size["bundle"] <= size["v1"]+size["0-first"]-2 { // the empty config is shared
		t.Errorf("index size %d does not count its members (%d, %d)", size["bundle"], size["v1"], size["0-first"])
	}
	// import x.tar when only x.tar.000… exist; a tar of the layout's directory.
	must(t, work, "export", "L:v1", "-o", "x.tar", "--split-size", "1KiB")
	expect(t, work, exitFailure, []string{"give the first, x.tar.000"}, "import", "x.tar", "O")
	if out, err := exec.Command("tar", "-C", work, "-cf", filepath.Join(work, "t.tar"), "L").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	expect(t, work, exitIntegrity, []string{`make it from inside the layout (tar -C "L"`}, "import", "t.tar", "O")
	// A layout tarred from inside with a directory of notes beside it:
	// the hint says to leave the directory out, not only to re-tar.
	os.MkdirAll(filepath.Join(work, "extra", "notes"), 0o755)
	os.WriteFile(filepath.Join(work, "extra", "notes", "readme"), []byte("n"), 0o644)
	if out, err := exec.Command("tar", "-cf", filepath.Join(work, "t2.tar"), "-C", filepath.Join(work, "L"), "oci-layout", "index.json", "blobs", "-C", filepath.Join(work, "extra"), "notes").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	expect(t, work, exitIntegrity, []string{`"notes/"`, "leave it out of the archive"}, "import", "t2.tar", "O2")
	// A delta whose base is missing: one line, nothing left behind.
	rc := must(t, work, "receipt", "L").stdout
	os.WriteFile(filepath.Join(work, "r.json"), []byte(rc), 0o644)
	os.WriteFile(filepath.Join(work, "src", "d.bin"), []byte("dddd"), 0o644)
	must(t, work, "pack", "L:v2", "src/a.bin", "src/d.bin", "--artifact-type", artifactType)
	must(t, work, "export", "L:v2", "--exclude-from", "r.json", "-o", "delta.tar")
	r := expect(t, work, exitIntegrity, []string{"the archive is a delta, made against a receipt", "this layout lacks 2 blob(s)"}, "import", "delta.tar", "O")
	if strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Errorf("delta message is not one line: %q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "O")); !os.IsNotExist(err) {
		t.Fatalf("failed imports left the layout O (%v)", err)
	}
}

// Seam 9: --exclude and .ocipackignore, reproducibly, reported by inspect.
func TestDayOneExclude(t *testing.T) {
	work := t.TempDir()
	for rel, body := range map[string]string{"m/w.bin": "w", "m/x.tmp": "t", "m/.cache/c": "c", "m/.ocipackignore": ".cache/\n"} {
		os.MkdirAll(filepath.Dir(filepath.Join(work, rel)), 0o755)
		os.WriteFile(filepath.Join(work, rel), []byte(body), 0o644)
	}
	d1 := must(t, work, "pack", "L:v1", "m", "--exclude", "*.tmp", "--artifact-type", artifactType).stdout
	os.WriteFile(filepath.Join(work, "m/x.tmp"), []byte("changed, still excluded"), 0o644)
	os.WriteFile(filepath.Join(work, "m/.cache/c"), []byte("changed too"), 0o644)
	d2 := must(t, work, "pack", "L:v2", "m", "--exclude", "*.tmp", "--artifact-type", artifactType).stdout
	if d1 != d2 {
		t.Errorf("excluded files changed the digest: %s, %s", d1, d2)
	}
	if r := must(t, work, "inspect", "L:v1"); !strings.Contains(r.stdout, "excluded from m: .cache/, *.tmp") {
		t.Errorf("inspect does not report the patterns:\n%s", r.stdout)
	}
	must(t, work, "extract", "L:v1", "-o", "out")
	if got := pathsUnder(t, filepath.Join(work, "out")); strings.Join(got, " ") != ". m m/.ocipackignore m/w.bin" {
		t.Errorf("extracted %q", got)
	}
}

// Seam 10: version names a version and a commit.
func TestDayOneVersion(t *testing.T) {
	var v struct{ Version, Commit, Go string }
	if err := json.Unmarshal([]byte(must(t, t.TempDir(), "version", "--format", "json").stdout), &v); err != nil || v.Version == "" || v.Commit == "" || v.Go == "" {
		t.Fatalf("version: %+v, %v", v, err)
	}
}
