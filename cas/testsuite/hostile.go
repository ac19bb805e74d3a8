package testsuite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// InvalidDigests are digest strings every store must reject with
// cas.ErrInvalidDigest before building a path (RELIABILITY A-5, I2).
func InvalidDigests() []string {
	hex := digest.FromString("x").Encoded()
	return []string{
		"",
		"sha256:",
		"sha256:" + strings.ToUpper(hex),
		"sha256:" + hex[:63],
		"sha256:" + hex + "0",
		"sha256:" + hex + "\n",
		"sha256:../../x",
		"sha256:../../../../etc/passwd",
		"sha256:" + hex + "/../x",
		"SHA256:" + hex,
		"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
		"md5:" + hex[:32],
		hex,
	}
}

func (s suite[S, W]) invalidDigests(t *testing.T) {
	st, dir := s.fresh(t)
	ctx := context.Background()
	before := snapshot(t, dir)
	for _, bad := range InvalidDigests() {
		d := digest.Digest(bad)
		desc := ocispec.Descriptor{Digest: d, Size: 1}
		checks := map[string]error{}
		_, checks["Stat"] = st.Stat(ctx, d)
		_, checks["Has"] = st.Has(ctx, desc)
		_, checks["OpenVerified"] = st.OpenVerified(ctx, desc)
		checks["Delete"] = st.Delete(ctx, d)
		if bad != "" { // an empty expected digest means "compute it"
			_, checks["Writer"] = st.Writer(ctx, desc)
			_, checks["Put"] = st.Put(ctx, bytes.NewReader([]byte("x")), desc)
		}
		for op, err := range checks {
			if !errors.Is(err, cas.ErrInvalidDigest) {
				t.Errorf("%s(%q) = %v, want ErrInvalidDigest", op, bad, err)
			}
		}
	}
	assertNewFiles(t, before, snapshot(t, dir))
}

// corruption: bytes changed on disk after commit are caught at EOF by the
// verifying reader, and a changed blob is not trusted for dedupe, whatever
// its size (RELIABILITY I6).
func (s suite[S, W]) corruption(t *testing.T) {
	st, dir := s.fresh(t)
	b := Content("rot", 10_000)
	want := Desc(mtLayer, b)
	if _, err := st.Put(context.Background(), bytes.NewReader(b), want); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, blobRel(want.Digest))
	rotted := slices.Clone(b)
	rotted[100] ^= 0xff
	cases := []struct {
		name    string
		content []byte
		want    error
	}{
		{"flipped byte", rotted, cas.ErrDigestMismatch},
		{"truncated", b[:len(b)-1], cas.ErrSizeMismatch},
		{"trailing byte", append(slices.Clone(b), 0), cas.ErrSizeMismatch},
	}
	for _, c := range cases {
		if err := os.WriteFile(p, c.content, 0o644); err != nil {
			t.Fatal(err)
		}
		rc, err := st.OpenVerified(context.Background(), want)
		if err != nil {
			t.Fatalf("%s: OpenVerified: %v", c.name, err)
		}
		_, err = io.ReadAll(rc)
		rc.Close()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: reading to EOF = %v, want %v", c.name, err, c.want)
		}
		if ok, err := st.Has(context.Background(), want); ok || err != nil {
			t.Errorf("%s: Has = %v, %v; want false (a blob changed since it was verified is re-hashed before dedupe trusts it)", c.name, ok, err)
		}
	}
}

// plant puts a hostile file under want's blob name via create, then checks
// that no read path follows or opens it, that Walk reports it as bad, and
// that storing the real bytes replaces it with a regular file.
func (s suite[S, W]) plant(t *testing.T, kind string, create func(path string) error) {
	st, dir := s.fresh(t)
	ctx := context.Background()
	b := Content("planted "+kind, 2048)
	want := Desc(mtLayer, b)
	p := filepath.Join(dir, blobRel(want.Digest))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := create(p); err != nil {
		t.Skipf("cannot create a %s here: %v", kind, err)
	}
	if _, err := st.Stat(ctx, want.Digest); !errors.Is(err, cas.ErrNotRegular) {
		t.Errorf("Stat of a %s = %v, want ErrNotRegular", kind, err)
	}
	if ok, err := st.Has(ctx, want); ok || err != nil {
		t.Errorf("Has of a %s = %v, %v; want false, nil", kind, ok, err)
	}
	done := make(chan error, 1)
	go func() {
		rc, err := st.OpenVerified(ctx, want)
		if err == nil {
			_, err = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
			err = fmt.Errorf("opened and read (%v)", err)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, cas.ErrNotRegular) {
			t.Errorf("OpenVerified of a %s = %v, want ErrNotRegular", kind, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("OpenVerified of a %s hangs", kind)
	}
	var listed []digest.Digest
	var bad []string
	err := st.Walk(ctx, func(i cas.Info) error { listed = append(listed, i.Digest); return nil },
		func(rel, reason string) error { bad = append(bad, rel+": "+reason); return nil })
	if err != nil || len(listed) != 0 || len(bad) != 1 || !strings.Contains(bad[0], want.Digest.Encoded()) {
		t.Errorf("Walk over a %s: listed %v, bad %q, err %v; want it reported as bad only", kind, listed, bad, err)
	}
	if kind == "directory" {
		if _, err := st.Put(ctx, bytes.NewReader(b), want); err == nil {
			t.Errorf("Put over a directory succeeded")
		}
		return
	}
	res, err := st.Put(ctx, bytes.NewReader(b), want)
	if err != nil || res.Reused {
		t.Fatalf("Put over a %s = %+v, %v; want a fresh commit replacing it", kind, res, err)
	}
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("after Put the blob is %v, %v; want a regular file", fi.Mode(), err)
	}
	assertStored(t, st, want, b)
}

func (s suite[S, W]) refuseSymlink(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	// The link's target even holds the right bytes: still not trusted.
	if err := os.WriteFile(outside, Content("planted symlink", 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	s.plant(t, "symlink", func(p string) error { return os.Symlink(outside, p) })
	if got, _ := os.ReadFile(outside); !bytes.Equal(got, Content("planted symlink", 2048)) {
		t.Fatalf("the symlink's target outside the store was modified")
	}
	s.plant(t, "symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) })
}

func (s suite[S, W]) refuseFIFO(t *testing.T) { s.plant(t, "FIFO", mkfifo) }

func (s suite[S, W]) refuseDevice(t *testing.T) { s.plant(t, "character device", mkdev) }

func (s suite[S, W]) refuseDirectory(t *testing.T) {
	s.plant(t, "directory", func(p string) error { return os.Mkdir(p, 0o755) })
}

// walkAndDelete: Walk lists exactly the committed blobs and hands invalid
// names to bad; Delete is idempotent.
func (s suite[S, W]) walkAndDelete(t *testing.T) {
	st, dir := s.fresh(t)
	ctx := context.Background()
	var want []digest.Digest
	for i := range 3 {
		b := Content(fmt.Sprint("walk", i), 100+i)
		res, err := st.Put(ctx, bytes.NewReader(b), ocispec.Descriptor{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res.Descriptor.Digest)
	}
	hex := want[0].Encoded()
	strays := []string{"blobs/sha256/" + strings.ToUpper(hex), "blobs/sha256/" + hex + ".tmp", "blobs/sha256/x", "blobs/md5/" + hex[:32]}
	for _, rel := range strays {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("stray"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := func() ([]digest.Digest, []string) {
		var got []digest.Digest
		var bad []string
		err := st.Walk(ctx, func(i cas.Info) error { got = append(got, i.Digest); return nil },
			func(rel, _ string) error { bad = append(bad, rel); return nil })
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(bad)
		return got, bad
	}
	got, bad := list()
	slices.Sort(want)
	slices.Sort(strays)
	if !slices.Equal(got, want) || !slices.Equal(bad, strays) {
		t.Fatalf("Walk listed %v and bad %q; want %v and %q", got, bad, want, strays)
	}
	if err := st.Delete(ctx, want[0]); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, want[0]); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
	if _, err := st.Stat(ctx, want[0]); !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if got, _ := list(); !slices.Equal(got, want[1:]) {
		t.Fatalf("Walk after Delete = %v, want %v", got, want[1:])
	}
}

// concurrentSame: 64 goroutines ingest one blob at once. All succeed, at
// least one publishes, the blob is intact, no staging is left.
func (s suite[S, W]) concurrentSame(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	b := Content("same", 256<<10)
	want := Desc(mtLayer, b)
	var published atomic.Int32
	parallel(t, 64, func(i int) error {
		exp := ocispec.Descriptor{}
		if i%2 == 0 {
			exp = want
		}
		res, err := ingestChunked(st, exp, b)
		if err != nil {
			return err
		}
		if res.Descriptor.Digest != want.Digest {
			return fmt.Errorf("goroutine %d committed %s, want %s", i, res.Descriptor.Digest, want.Digest)
		}
		if !res.Reused {
			published.Add(1)
		}
		return nil
	})
	if published.Load() == 0 {
		t.Fatalf("64 ingests all claim Reused; none published the blob")
	}
	assertStored(t, st, want, b)
	assertNewFiles(t, before, snapshot(t, dir), blobRel(want.Digest))
}

// concurrentDifferent: 64 goroutines ingest 64 different blobs at once.
func (s suite[S, W]) concurrentDifferent(t *testing.T) {
	st, dir := s.fresh(t)
	before := snapshot(t, dir)
	descs := make([]ocispec.Descriptor, 64)
	parallel(t, 64, func(i int) error {
		b := Content(fmt.Sprint("different", i), 64<<10+i)
		res, err := ingestChunked(st, ocispec.Descriptor{}, b)
		descs[i] = res.Descriptor
		return err
	})
	var rels []string
	for i, d := range descs {
		assertStored(t, st, d, Content(fmt.Sprint("different", i), 64<<10+i))
		rels = append(rels, blobRel(d.Digest))
	}
	assertNewFiles(t, before, snapshot(t, dir), rels...)
}

func ingestChunked[W Writer](st Store[W], exp ocispec.Descriptor, b []byte) (cas.Result, error) {
	w, err := st.Writer(context.Background(), exp)
	if err != nil {
		return cas.Result{}, err
	}
	for chunk := range slices.Chunk(b, 16<<10) {
		if _, err := w.Write(chunk); err != nil {
			w.Abort()
			return cas.Result{}, err
		}
	}
	return w.Commit(context.Background())
}
