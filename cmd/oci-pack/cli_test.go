//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/oci-pack/oci-pack/pack/packtest"
)

const artifactType = "application/vnd.oci-pack.test.v1"

var digestLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`)

// smallTree writes a few files and a directory into work/src.
func smallTree(t *testing.T, work string) {
	t.Helper()
	for name, body := range map[string]string{"src/a.bin": "aaaa", "src/b.bin": "bbbb", "src/dir/c.txt": "cccc"} {
		p := filepath.Join(work, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// packed returns a work directory holding src/ and a layout L with tag v1
// on an artifact of src/a.bin and src/dir, and v1's digest.
func packed(t *testing.T) (string, string) {
	t.Helper()
	work := t.TempDir()
	smallTree(t, work)
	r := must(t, work, "pack", "L:v1", "src/a.bin", "src/dir", "--artifact-type", artifactType)
	if !digestLine.MatchString(r.stdout) {
		t.Fatalf("pack stdout %q is not exactly one digest line", r.stdout)
	}
	return work, strings.TrimSpace(r.stdout)
}

// TestGoldenDigestsCLI packs the golden tree with the binary, as a user
// would from the tree's directory, and must get the digests pinned in
// testdata/golden for the library, with any --jobs.
func TestGoldenDigestsCLI(t *testing.T) {
	b, err := os.ReadFile("../../testdata/golden/digests.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]string
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model")
	os.Mkdir(model, 0o755)
	if err := packtest.WriteTree(model); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ mode, jobs string }{{"auto", "1"}, {"gzip", "8"}, {"zstd", "2"}, {"none", "8"}} {
		args := append([]string{"pack", fmt.Sprintf("../L%d:v1", i)}, packtest.TreeArgs...)
		args = append(args, "--artifact-type", "application/vnd.oci-pack.golden.v1", "--compression", c.mode, "--jobs", c.jobs)
		r := must(t, model, args...)
		if got := strings.TrimSpace(r.stdout); got != golden[c.mode] {
			t.Errorf("CLI --compression %s --jobs %s: %s, golden %s", c.mode, c.jobs, got, golden[c.mode])
		}
	}
	// SOURCE_DATE_EPOCH sets the tar mtime and records the created time.
	args := append([]string{"pack", "../Lsde:v1"}, packtest.TreeArgs...)
	args = append(args, "--artifact-type", "application/vnd.oci-pack.golden.v1", "--compression", "none")
	r := ociPackEnv(t, model, []string{"SOURCE_DATE_EPOCH=1700000000"}, args...)
	if r.code != 0 || strings.TrimSpace(r.stdout) == golden["none"] {
		t.Fatalf("pack with SOURCE_DATE_EPOCH: %v; want a digest other than the golden %s", r, golden["none"])
	}
	var tree struct {
		Document struct{ Annotations map[string]string } `json:"document"`
	}
	json.Unmarshal([]byte(must(t, model, "inspect", "../Lsde:v1", "--format", "json").stdout), &tree)
	if got := tree.Document.Annotations["org.opencontainers.image.created"]; got != "2023-11-14T22:13:20Z" {
		t.Fatalf("created annotation %q with SOURCE_DATE_EPOCH=1700000000", got)
	}
}

// TestUsageErrors: usage errors exit 2 with a message naming the problem.
func TestUsageErrors(t *testing.T) {
	work, _ := packed(t)
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"ls", "L", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"pack", "L:-bad", "src/a.bin", "--artifact-type", artifactType}, `invalid tag "-bad"`},
		{[]string{"pack", "L", "src/a.bin", "--artifact-type", artifactType}, "want LAYOUT:TAG"},
		{[]string{"pack", "L:v2", "src/a.bin"}, "--artifact-type"},
		{[]string{"pack", "L:v2", "src/a.bin", "--artifact-type", artifactType, "--compression", "lz4"}, `unknown compression "lz4"`},
		{[]string{"tag", "L:v1", "bad tag"}, `invalid tag "bad tag"`},
		{[]string{"tag", "L:v1"}, "wrong number of arguments"},
		{[]string{"pack"}, "wrong number of arguments"},
		{[]string{"gc"}, "wrong number of arguments"},
		{[]string{"inspect", "L@sha256:../../etc/passwd"}, `invalid digest "sha256:../../etc/passwd"`},
		{[]string{"ls", "L", "--format", "xml"}, `--format "xml"`},
		{[]string{"verify", "L", "--jobs", "0"}, "--jobs 0"},
		{[]string{"verify", "L", "--jobs", "100000"}, "--jobs 100000: want 1 to 1024"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{nil, "Usage: oci-pack"},
	}
	before, _ := os.ReadFile(filepath.Join(work, "L", "index.json"))
	for _, c := range cases {
		r := expect(t, work, 2, []string{c.msg}, c.args...)
		if r.stdout != "" {
			t.Errorf("oci-pack %v printed %q on stdout", c.args, r.stdout)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(work, "L", "index.json")); string(after) != string(before) {
		t.Fatal("a usage error changed index.json")
	}
}

// TestHelp: `help CMD` and `CMD --help` print usage with examples on
// stdout and exit 0.
func TestHelp(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"init", "pack", "ls", "inspect", "tag", "untag", "verify", "gc", "du"} {
		for _, args := range [][]string{{"help", c}, {c, "--help"}, {c, "-h"}} {
			r := must(t, dir, args...)
			if !strings.HasPrefix(r.stdout, "Usage: oci-pack "+c+" ") || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--lock-timeout") {
				t.Errorf("oci-pack %v: stdout %q lacks usage, examples or flags", args, r.stdout)
			}
		}
	}
	if r := must(t, dir, "help"); !strings.Contains(r.stdout, "Exit codes:") {
		t.Errorf("oci-pack help: %q", r.stdout)
	}
}

// TestConflict: packing onto a tag that names another artifact exits 4
// and changes nothing; --force (deprecated) moves it and names the old digest.
func TestConflict(t *testing.T) {
	work, old := packed(t)
	idx := filepath.Join(work, "L", "index.json")
	before, _ := os.ReadFile(idx)
	expect(t, work, 4, []string{`tag "v1"`, old}, "pack", "L:v1", "src/b.bin", "--artifact-type", artifactType)
	if after, _ := os.ReadFile(idx); string(after) != string(before) {
		t.Fatal("a conflicting pack changed index.json")
	}
	r := must(t, work, "pack", "L:v1", "src/b.bin", "--artifact-type", artifactType, "--force")
	if !strings.Contains(r.stderr, "moved tag v1 from "+old) || !strings.Contains(r.stderr, "--force is deprecated") || strings.TrimSpace(r.stdout) == old {
		t.Fatalf("--force: %v; want the old digest %s named", r, old)
	}
	// Same tag, same artifact, the inputs not vouched for by the stat
	// cache (just written): refused before reading; with --tag-conflict
	// overwrite, re-packed and the tag left as it is.
	expect(t, work, 4, []string{"not packing (no input was read)", "--tag-conflict overwrite"}, "pack", "L:v1", "src/b.bin", "--artifact-type", artifactType)
	r = must(t, work, "pack", "L:v1", "src/b.bin", "--artifact-type", artifactType, "--tag-conflict", "overwrite")
	if strings.Contains(r.stderr, "moved tag") {
		t.Fatalf("an identical re-pack moved the tag: %v", r)
	}
	expect(t, work, 4, []string{`tag "v1"`}, "tag", "L@"+old, "v1")
	must(t, work, "verify", "L")
	layouttest.Check(t, filepath.Join(work, "L"))
}

// TestIntegrityExit: verify of a corrupted layout exits 3 naming the blob
// with expected and actual digests; a missing blob too.
func TestIntegrityExit(t *testing.T) {
	work, _ := packed(t)
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	r := must(t, work, "inspect", "L:v1", "--format", "json")
	var tree struct {
		Document json.RawMessage `json:"document"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &tree); err != nil {
		t.Fatalf("inspect --format json: %v\n%s", err, r.stdout)
	}
	json.Unmarshal(tree.Document, &m)
	blob := func(d string) string {
		return filepath.Join(work, "L", "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
	}
	if err := os.WriteFile(blob(m.Layers[0].Digest), []byte("aaaX"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect(t, work, 3, []string{"corrupt blob " + m.Layers[0].Digest, "expected " + m.Layers[0].Digest}, "verify", "L")
	os.Remove(blob(m.Layers[1].Digest))
	expect(t, work, 3, []string{"missing blob " + m.Layers[1].Digest}, "verify", "L")
	r = expect(t, work, 3, nil, "verify", "L", "--format", "json")
	var rep struct {
		OK       bool `json:"ok"`
		Problems []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.OK || len(rep.Problems) != 2 {
		t.Fatalf("verify --format json: %+v, %v\n%s", rep, err, r.stdout)
	}
}

// TestJSONOutputs: every --format json output parses, and stdout holds
// nothing else.
func TestJSONOutputs(t *testing.T) {
	work, d := packed(t)
	for _, args := range [][]string{
		{"pack", "L:v2", "src/b.bin", "--artifact-type", artifactType},
		{"ls", "L"}, {"inspect", "L:v1"}, {"inspect", "L@" + d}, {"verify", "L"}, {"du", "L"}, {"gc", "L", "--dry-run"}, {"gc", "L"},
	} {
		r := must(t, work, append(args, "--format", "json")...)
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Errorf("oci-pack %v --format json: %v\n%s", args, err, r.stdout)
		}
	}
	var rows []struct{ Tag, Digest string }
	json.Unmarshal([]byte(must(t, work, "ls", "L", "--format", "json").stdout), &rows)
	if len(rows) != 2 || rows[0].Tag != "v1" || rows[0].Digest != d {
		t.Fatalf("ls --format json rows %+v", rows)
	}
}

// TestLifecycle: init is idempotent; untag keeps blobs until gc frees
// them; du and verify agree with what is stored.
func TestLifecycle(t *testing.T) {
	work, d := packed(t)
	must(t, work, "init", "L")
	must(t, work, "init", "L2")
	expect(t, work, 1, []string{"not empty"}, "init", "src")
	must(t, work, "tag", "L:v1", "v2", "latest")
	if r := must(t, work, "ls", "L"); strings.Count(r.stdout, d) != 3 {
		t.Fatalf("ls after tagging: %q", r.stdout)
	}
	r := must(t, work, "untag", "L:v1", "L:v2", "L:latest")
	if strings.Count(r.stdout, d) != 3 {
		t.Fatalf("untag stdout %q", r.stdout)
	}
	blobs, _ := os.ReadDir(filepath.Join(work, "L", "blobs", "sha256"))
	if len(blobs) != 4 {
		t.Fatalf("%d blobs after untag, want all 4 kept", len(blobs))
	}
	r = must(t, work, "gc", "L")
	if lines := strings.Count(r.stdout, "\n"); lines != 4 || !strings.Contains(r.stdout, d) {
		t.Fatalf("gc freed %q, want 4 blobs including the manifest", r.stdout)
	}
	if blobs, _ := os.ReadDir(filepath.Join(work, "L", "blobs", "sha256")); len(blobs) != 0 {
		t.Fatalf("%d blobs left after gc", len(blobs))
	}
	must(t, work, "verify", "L")
	layouttest.Check(t, filepath.Join(work, "L"))
}

// TestConcurrentTagProcesses: 8 `oci-pack tag` processes on one layout at
// once; no tag is lost.
func TestConcurrentTagProcesses(t *testing.T) {
	work, d := packed(t)
	var cmds []*exec.Cmd
	for i := range 8 {
		cmd := exec.Command(bin(t), "tag", "L@"+d, fmt.Sprintf("p%d-a", i), fmt.Sprintf("p%d-b", i), fmt.Sprintf("p%d-c", i))
		cmd.Dir = work
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("tag process %d: %v", i, err)
		}
	}
	var rows []struct{ Tag string }
	json.Unmarshal([]byte(must(t, work, "ls", "L", "--format", "json").stdout), &rows)
	if len(rows) != 1+8*3 {
		t.Fatalf("%d tags after 8 concurrent tag processes, want 25", len(rows))
	}
	layouttest.Check(t, filepath.Join(work, "L"))
}

// TestGCWhilePackStages: gc cannot run while a pack is staging (it holds
// the layout lock shared): with a short --lock-timeout gc exits 4 naming
// the lock; without one it waits, and nothing the pack needs is lost.
func TestGCWhilePackStages(t *testing.T) {
	work, _ := packed(t)
	big := filepath.Join(work, "src", "big.bin")
	f, err := os.Create(big)
	if err == nil {
		err = f.Truncate(64 << 20) // sparse: cheap to make, slow enough to pack
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	pk := exec.Command(bin(t), "pack", "L:big", "src/big.bin", "--artifact-type", artifactType, "--compression", "none", "--jobs", "1")
	pk.Dir = work
	if err := pk.Start(); err != nil {
		t.Fatal(err)
	}
	staging := waitForStaging(t, filepath.Join(work, "L"), pk)
	pk.Process.Signal(syscall.SIGSTOP)
	defer pk.Process.Signal(syscall.SIGCONT)
	expect(t, work, 4, []string{"locked", "lock-timeout"}, "gc", "L", "--lock-timeout", "300ms")
	expect(t, work, 4, []string{"locked"}, "gc", "L", "--dry-run", "--no-wait")
	if _, err := os.Stat(staging); err != nil {
		t.Fatalf("the pack's staging dir is gone while it runs: %v", err)
	}
	gc := exec.Command(bin(t), "gc", "L")
	gc.Dir = work
	if err := gc.Start(); err != nil {
		t.Fatal(err)
	}
	pk.Process.Signal(syscall.SIGCONT)
	if err := pk.Wait(); err != nil {
		t.Fatalf("pack failed while gc waited: %v", err)
	}
	if err := gc.Wait(); err != nil {
		t.Fatalf("gc: %v", err)
	}
	must(t, work, "verify", "L", "big")
	layouttest.Check(t, filepath.Join(work, "L"))
}

// waitForStaging polls until the running pack has created its staging
// directory (so it holds the layout lock) and returns its path.
func waitForStaging(t *testing.T, layoutDir string, pk *exec.Cmd) string {
	t.Helper()
	dir := filepath.Join(layoutDir, ".oci-pack", "tmp")
	prefix := fmt.Sprintf("%d-", pk.Process.Pid)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				return filepath.Join(dir, e.Name())
			}
		}
		if exited(pk.Process.Pid) {
			t.Skip("the pack finished before its staging could be observed")
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatal("pack never created its staging directory")
	return ""
}

// exited reports whether process pid has ended (a zombie not yet reaped).
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// TestUnreadableInput is RELIABILITY C-30: a file that cannot be read, or
// a directory that cannot be listed, fails the pack with a message naming
// it and the cause, before index.json changes. Root reads everything, so
// as root the binary runs as nobody.
func TestUnreadableInput(t *testing.T) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	work, err := os.MkdirTemp("", "oci-pack-c30-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	os.Chmod(work, 0o777)
	smallTree(t, work)
	runAs := func(args ...string) result {
		cmd := exec.Command(bin(t), args...)
		cmd.Dir = work
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
			t.Fatalf("run as nobody: %v", err)
		}
		return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
	}
	if r := runAs("pack", "L:v1", "src/a.bin", "--artifact-type", artifactType); r.code != 0 {
		t.Fatalf("pack as an unprivileged user: %v", r)
	}
	before, _ := os.ReadFile(filepath.Join(work, "L", "index.json"))
	secret := filepath.Join("src", "dir", "sub", "secret.bin")
	os.MkdirAll(filepath.Join(work, "src", "dir", "sub"), 0o755)
	os.WriteFile(filepath.Join(work, secret), []byte("secret"), 0o000)
	os.Chmod(filepath.Join(work, secret), 0o000)
	hidden := filepath.Join("src", "hidden")
	os.MkdirAll(filepath.Join(work, hidden, "x"), 0o755)
	os.Chmod(filepath.Join(work, hidden), 0o300)
	defer os.Chmod(filepath.Join(work, hidden), 0o755)
	for _, c := range []struct{ arg, names string }{{"src/dir", secret}, {hidden, hidden}} {
		for _, comp := range []string{"none", "auto"} {
			r := runAs("pack", "L:v2", c.arg, "--artifact-type", artifactType, "--compression", comp)
			if r.code != exitFailure || !strings.Contains(r.stderr, c.names) || !strings.Contains(r.stderr, "permission denied") {
				t.Errorf("pack of %s (--compression %s): %v\nwant exit 1 naming %s: permission denied", c.arg, comp, r, c.names)
			}
		}
	}
	if after, _ := os.ReadFile(filepath.Join(work, "L", "index.json")); string(after) != string(before) {
		t.Fatal("a failed pack changed index.json")
	}
	if r := runAs("verify", "L"); r.code != 0 {
		t.Fatalf("verify after the failed packs: %v", r)
	}
	layouttest.Check(t, filepath.Join(work, "L"))
}
