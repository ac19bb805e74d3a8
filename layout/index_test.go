package layout_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestMain doubles as the helper process of the multi-process tests: with
// LAYOUT_TEST_HELPER set it runs that command and exits.
func TestMain(m *testing.M) {
	if os.Getenv("LAYOUT_TEST_HELPER") != "" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

// helperMain tags LAYOUT_TEST_DIGEST in LAYOUT_TEST_DIR with each of the
// space-separated LAYOUT_TEST_TAGS, one UpdateIndex per tag.
func helperMain() int {
	dir := os.Getenv("LAYOUT_TEST_DIR")
	l, err := layout.Open(dir, layout.Options{Mode: layout.ReadWrite, LockTimeout: time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer l.Close()
	d, err := l.Resolve(ctx, layout.Ref{Layout: dir, Digest: digest.Digest(os.Getenv("LAYOUT_TEST_DIGEST"))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, name := range strings.Fields(os.Getenv("LAYOUT_TEST_TAGS")) {
		if _, err := l.Tag(ctx, name, d, layout.ConflictFail); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

const emptyIndex = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`

// indexWith returns an index.json whose manifests are the given JSON
// descriptors.
func indexWith(descs ...string) string {
	return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(descs, ",") + `]}`
}

func descJSON(d digest.Digest, tag string) string {
	s := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d.String() + `","size":10`
	if tag != "" {
		s += `,"annotations":{"org.opencontainers.image.ref.name":` + tag + `}`
	}
	return s + "}"
}

var (
	dA = digest.FromString("a")
	dB = digest.FromString("b")
)

// TestParseIndexStrict covers RELIABILITY, and checks
// that index.json read from a directory is judged exactly as ParseIndex
// judges archive bytes.
func TestParseIndexStrict(t *testing.T) {
	cases := []struct {
		name, doc, want string // want "" accepts
	}{
		{"empty index", emptyIndex, ""},
		{"good tags", indexWith(descJSON(dA, `"v1.0-rc_1+build"`), descJSON(dA, `"a/b--c"`), descJSON(dB, `"1:2@3"`), descJSON(dB, "")), ""},
		{"duplicate key", `{"schemaVersion":2,"manifests":[` + descJSON(dA, `"v1"`) + `],"manifests":[]}`, "duplicate key"},
		{"case variant key", `{"schemaVersion":2,"manifests":[],"Manifests":[` + descJSON(dA, "") + `]}`, "differing only in case"},
		{"case variant in descriptor", indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dA.String() + `","Digest":"` + dB.String() + `","size":1}`), "differing only in case"},
		{"trailing document", emptyIndex + indexWith(descJSON(dA, `"evil"`)), "trailing data"},
		{"BOM", "\xef\xbb\xbf" + emptyIndex, "byte-order mark"},
		{"lone surrogate", indexWith(descJSON(dA, `"v\ud800"`)), "lone surrogate"},
		{"invalid UTF-8", indexWith(descJSON(dA, "\"v\xff\"")), "invalid UTF-8"},
		{"schemaVersion 1", `{"schemaVersion":1,"manifests":[]}`, "schemaVersion 1"},
		{"wrong mediaType", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}`, "mediaType"},
		{"negative size", indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dA.String() + `","size":-1}`), "invalid descriptor size -1"},
		{"path digest", indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../etc/passwd","size":1}`), `invalid digest "sha256:../../etc/passwd"`},
		{"uppercase digest", indexWith(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + strings.ToUpper(dA.String()) + `","size":1}`), "invalid digest"},
		{"tag on two digests", indexWith(descJSON(dA, `"v1"`), descJSON(dB, `"v1"`)), `tag "v1" refers to both ` + dA.String() + " and " + dB.String()},
		{"tag listed twice", indexWith(descJSON(dA, `"v1"`), descJSON(dA, `"v1"`)), `tag "v1" listed twice`},
		{"tag traversal", indexWith(descJSON(dA, `"../../etc/cron.d/x"`)), `invalid tag "../../etc/cron.d/x"`},
		{"tag dot-dot component", indexWith(descJSON(dA, `"a/b/../c"`)), "invalid tag"},
		{"tag empty", indexWith(descJSON(dA, `""`)), `invalid tag ""`},
		{"tag NUL", indexWith(descJSON(dA, `"v\u0000"`)), `invalid tag "v\x00"`},
		{"tag newline", indexWith(descJSON(dA, `"v1\n"`)), `invalid tag "v1\n"`},
		{"tag leading dash", indexWith(descJSON(dA, `"-v1"`)), `invalid tag "-v1"`},
		{"tag 10 KB", indexWith(descJSON(dA, `"`+strings.Repeat("a", 10<<10)+`"`)), "limit 255"},
		{"deep nesting", strings.Repeat("[", 100) + strings.Repeat("]", 100), "nesting deeper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, perr := layout.ParseIndex([]byte(c.doc))
			dir, _ := goodLayout(t)
			os.WriteFile(filepath.Join(dir, "index.json"), []byte(c.doc), 0o644)
			l, err := open(t, dir, layout.ReadOnly)
			if err != nil {
				t.Fatal(err)
			}
			_, derr := l.Index(ctx)
			if c.want == "" {
				if perr != nil || derr != nil {
					t.Fatalf("rejected a valid index: ParseIndex %v; from directory %v", perr, derr)
				}
				return
			}
			if perr == nil || !strings.Contains(perr.Error(), c.want) {
				t.Fatalf("ParseIndex = %v, want an error containing %q", perr, c.want)
			}
			if derr == nil || !strings.Contains(derr.Error(), perr.Error()) || !strings.Contains(derr.Error(), "index.json") {
				t.Fatalf("from directory: %v; want the ParseIndex error %q naming index.json", derr, perr)
			}
			if strings.ContainsAny(perr.Error(), "\n\x00") {
				t.Fatalf("error %q carries raw control characters", perr)
			}
		})
	}
}

// TestUpdateIndexAtomic: a failing or no-op update leaves index.json
// byte-identical (the same file, even); an invalid result is refused; a
// good one is a whole new file with nothing left in staging.
func TestUpdateIndexAtomic(t *testing.T) {
	dir, a := goodLayout(t)
	p := filepath.Join(dir, "index.json")
	before := readFile(t, p)
	fiBefore, _ := os.Stat(p)
	l := openRW(t, dir)
	boom := errors.New("boom")
	if err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error { e.Untag("v1"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateIndex with failing fn = %v, want boom", err)
	}
	if err := l.UpdateIndex(ctx, func(*layout.IndexEdit) error { return nil }); err != nil {
		t.Fatal(err)
	}
	err := l.UpdateIndex(ctx, func(e *layout.IndexEdit) error {
		if _, err := e.Tag("v2", a.manifest, layout.ConflictFail); err != nil {
			return err
		}
		_, err := e.Tag("v3", ocispec.Descriptor{MediaType: a.manifest.MediaType, Digest: digest.FromString("absent"), Size: 3}, layout.ConflictFail)
		return err
	})
	if !errors.Is(err, layout.ErrMissingBlob) {
		t.Fatalf("UpdateIndex tagging a blob that is not stored = %v, want ErrMissingBlob and nothing written", err)
	}
	fiAfter, _ := os.Stat(p)
	if !bytes.Equal(readFile(t, p), before) || !os.SameFile(fiBefore, fiAfter) {
		t.Fatal("index.json changed after failing or no-op updates")
	}
	tag(t, l, "v2", a.manifest)
	if fi, _ := os.Stat(p); os.SameFile(fiBefore, fi) {
		t.Fatal("index.json was rewritten in place, not replaced by rename")
	}
	l.Close()
	layouttest.Check(t, dir)
	idx, err := layout.ParseIndex(readFile(t, p))
	if err != nil || len(layout.Tags(idx)) != 2 {
		t.Fatalf("after tagging v2: %v, %v", idx, err)
	}
}

// TestConcurrentTagsInProcess: 8 goroutines, each with its own Layout
// handle (own staging, own lock file descriptors), tag at once.
func TestConcurrentTagsInProcess(t *testing.T) {
	dir, a := goodLayout(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	ls := make([]*layout.Layout, 8)
	for i := range errs {
		l := openRW(t, dir)
		ls[i] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				if _, err := l.Tag(ctx, fmt.Sprintf("g%d-%d", i, j), a.manifest, layout.ConflictFail); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, l := range ls {
		errs = append(errs, l.Close())
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	assertTags(t, dir, 1+8*5)
}

// TestConcurrentTagsMultiProcess is the issue's "8 processes tagging one
// layout at once, no tag lost": the test binary re-executes itself.
func TestConcurrentTagsMultiProcess(t *testing.T) {
	dir, a := goodLayout(t)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := range 8 {
		var tags []string
		for j := range 5 {
			tags = append(tags, fmt.Sprintf("p%d-%d", i, j))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LAYOUT_TEST_HELPER=tag", "LAYOUT_TEST_DIR="+dir,
			"LAYOUT_TEST_DIGEST="+a.manifest.Digest.String(), "LAYOUT_TEST_TAGS="+strings.Join(tags, " "))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	assertTags(t, dir, 1+8*5)
}

func assertTags(t *testing.T, dir string, n int) {
	t.Helper()
	layouttest.Check(t, dir)
	idx, err := layout.ParseIndex(readFile(t, filepath.Join(dir, "index.json")))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(layout.Tags(idx)); got != n {
		t.Fatalf("%d tags after concurrent tagging, want %d: updates were lost", got, n)
	}
}
