package adversarial

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestMain(m *testing.M) { rtest.Main(m) }

// world is one case's surroundings: a work directory holding the
// sentinel tree, a target layout L that already holds tag "base", the
// good archive good.tar, and in/ for the case's own inputs. Commands run
// with their working directory in in/work, so a relative escape lands in
// the sentinel tree.
type world struct {
	Dir     string // parent of everything
	L       string // the target layout
	In      string // inputs written by the case
	Out     string // extraction target (not created)
	Work    string // the command's working directory
	GoodTar string
	Good    *rtest.Fixture
	S       *rtest.Sentinel
	Snap    rtest.Snapshot
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, base(t))
}

// newWorldWith is newWorld with L holding f instead of base.
func newWorldWith(t *testing.T, f *rtest.Fixture) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{Dir: dir, L: filepath.Join(dir, "L"), In: filepath.Join(dir, "in"), Out: filepath.Join(dir, "out"),
		Good: rtest.Good(t)}
	w.Work = filepath.Join(w.In, "work")
	if err := os.MkdirAll(w.Work, 0o755); err != nil {
		t.Fatal(err)
	}
	f.WriteDir(t, w.L)
	w.GoodTar = rtest.WriteFile(t, filepath.Join(w.In, "good.tar"), w.Good.Tar(t))
	w.S = rtest.NewSentinel(t, dir, "L", "in", "out")
	w.Snap = rtest.Snap(t, w.L)
	return w
}

// base is what L holds before a case: tag "base" on an artifact of one
// 2000-byte layer, sharing nothing with good/.
func base(t testing.TB) *rtest.Fixture {
	f := &rtest.Fixture{Blobs: map[digest.Digest][]byte{}, Index: ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}}
	f.Index.SchemaVersion = 2
	f.SetTag(t, "base", artifact(t, f, map[string][]byte{"base.bin": rtest.Bytes(2000, 9)}))
	return f
}

// artifact adds a manifest (empty config) of raw layers titled by the
// keys of files, in sorted order, and returns its descriptor.
func artifact(t testing.TB, f *rtest.Fixture, files map[string][]byte) ocispec.Descriptor {
	t.Helper()
	f.Put([]byte("{}"))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: rtest.ArtifactType, Config: ocispec.DescriptorEmptyJSON}
	m.SchemaVersion = 2
	for _, name := range sortedKeys(files) {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: rtest.LayerType, Digest: f.Put(files[name]),
			Size: int64(len(files[name])), Annotations: map[string]string{rtest.TitleKey: name}})
	}
	return f.PutJSON(t, ocispec.MediaTypeImageManifest, m)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// input writes a case's input file into in/.
func (w *world) input(t testing.TB, name string, b []byte) string {
	t.Helper()
	return rtest.WriteFile(t, filepath.Join(w.In, name), b)
}

// run runs the binary in w.Work.
func (w *world) run(t testing.TB, args ...string) rtest.Result {
	t.Helper()
	return rtest.RunIn(t, w.Work, args...)
}

// importRejected imports archive into L and checks the whole contract of
// a rejected import: [E] exit code and one error line with says, then
// everything rejected() checks.
func (w *world) importRejected(t *testing.T, archive []byte, code int, says ...string) rtest.Result {
	t.Helper()
	p := w.input(t, "case.tar", archive)
	r := w.run(t, "import", "-q", p, w.L)
	t.Logf("exit %d: %s", r.Code, r.Stderr)
	rtest.AssertFail(t, r, code, says...)
	w.rejected(t, r)
	return r
}

// rejected checks what every rejected command leaves: [U] L untouched
// (index.json byte-identical, only complete verified blobs new, no
// staging), [C] nothing outside L, in/ and out/ touched and the secret
// nowhere, [M] peak RSS bounded, [V] verify passes and a good import
// succeeds afterwards.
func (w *world) rejected(t *testing.T, r rtest.Result) {
	t.Helper()
	w.Snap.AssertUnchanged(t)
	w.S.AssertIntact(t)
	w.S.AssertNotLeaked(t, []string{w.L}, r.Stdout, r.Stderr)
	rtest.AssertRSS(t, r)
	w.goodRerun(t)
}

// goodRerun checks [V]: verify passes, and importing good.tar then
// succeeds and tags v1 on good/'s manifest, leaving a valid layout. It
// takes a new snapshot of L for the next case in the same world.
func (w *world) goodRerun(t *testing.T) {
	t.Helper()
	rtest.AssertVerify(t, w.L)
	r := w.run(t, "import", "-q", w.GoodTar, w.L)
	if r.Code != 0 {
		t.Errorf("[V] a good import after the case failed: %v", r)
		return
	}
	if got := w.tagDigest(t, "v1"); got != w.Good.Tagged(t, "v1").Digest.String() {
		t.Errorf("[V] after the good import v1 is %q, want %s", got, w.Good.Tagged(t, "v1").Digest)
	}
	rtest.AssertVerify(t, w.L)
	rtest.AssertNoStaging(t, w.L)
	w.Snap = rtest.Snap(t, w.L) // the baseline for the next command
}

// tagDigest is the digest L's tag points at ("" if none), from
// `oci-pack receipt`.
func (w *world) tagDigest(t testing.TB, tag string) string {
	t.Helper()
	return tags(t, w.L)[tag]
}

// tags are a layout's tags, from `oci-pack receipt`.
func tags(t testing.TB, dir string) map[string]string {
	t.Helper()
	r := rtest.Run(t, "receipt", dir)
	if r.Code != 0 {
		t.Fatalf("receipt: %v", r)
	}
	var rc struct{ Tags map[string]string }
	if err := json.Unmarshal([]byte(r.Stdout), &rc); err != nil {
		t.Fatalf("receipt: %v\n%s", err, r.Stdout)
	}
	return rc.Tags
}

// replace returns members with the one named name swapped for e.
func replace(t testing.TB, ms []rtest.Entry, name string, e rtest.Entry) []rtest.Entry {
	t.Helper()
	out := append([]rtest.Entry(nil), ms...)
	for i, m := range out {
		if m.Raw == nil && m.Hdr.Name == name {
			out[i] = e
			return out
		}
	}
	t.Fatalf("no member %q", name)
	return nil
}

// insert puts extra right after oci-layout.
func insert(ms []rtest.Entry, extra ...rtest.Entry) []rtest.Entry {
	out := append([]rtest.Entry{ms[0]}, extra...)
	return append(out, ms[1:]...)
}

// member is the member named name.
func member(t testing.TB, ms []rtest.Entry, name string) rtest.Entry {
	t.Helper()
	for _, m := range ms {
		if m.Raw == nil && m.Hdr.Name == name {
			return m
		}
	}
	t.Fatalf("no member %q", name)
	return rtest.Entry{}
}

// ocispecDigest is s as a digest, unchecked.
func ocispecDigest(s string) digest.Digest { return digest.Digest(s) }

// assertVerifyFails checks a failed `verify`: exit 3, and its report (a
// line per problem, then the count) mentions every one of says.
func assertVerifyFails(t testing.TB, r rtest.Result, says ...string) {
	t.Helper()
	rtest.AssertCode(t, r, rtest.ExitIntegrity)
	for _, s := range says {
		if !strings.Contains(r.Stderr, s) {
			t.Errorf("[E] verify's report does not mention %q:\n%s", s, r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, "problem(s) found") {
		t.Errorf("[E] verify does not count the problems:\n%s", r.Stderr)
	}
}
