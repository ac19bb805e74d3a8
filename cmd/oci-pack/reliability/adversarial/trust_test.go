package adversarial

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/opencontainers/go-digest"
)

// RELIABILITY I6 (issue 12 class 4): a stored blob is relied on only if it
// was verified since it last changed. Every command that skips bytes
// because "the layout already has them" is run against every way a stored
// blob can change behind oci-pack's back; a command that has the right
// bytes at hand repairs the blob and says so, one that has not refuses
// (or, for receipt, leaves the blob out). A new relier belongs in
// trustReliers; a new way to rot, in blobRots.

// blobRot changes the stored blob at p, whose right bytes are good.
type blobRot struct {
	name string
	do   func(t *testing.T, p string, good []byte)
}

var blobRots = []blobRot{
	{"truncated", func(t *testing.T, p string, good []byte) { rewriteBlob(t, p, good[:len(good)/4]) }},
	{"byte flipped in place", func(t *testing.T, p string, good []byte) { rewriteBlob(t, p, flipped(good)) }},
	{"byte flipped, mtime restored", func(t *testing.T, p string, good []byte) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // past the clock tick of the commit (cas.Fingerprint)
		rewriteBlob(t, p, flipped(good))
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}},
	{"replaced by other bytes", func(t *testing.T, p string, good []byte) {
		if err := os.WriteFile(p+".x", flipped(good), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".x", p); err != nil {
			t.Fatal(err)
		}
	}},
}

func flipped(b []byte) []byte { c := slices.Clone(b); c[len(c)/2] ^= 0x40; return c }

func rewriteBlob(t *testing.T, p string, b []byte) {
	t.Helper()
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// trustCase is one world for a relier: L holds good/ (imported, so its
// blobs were verified and recorded), L2 another good copy, layer the
// blob that rots.
type trustCase struct {
	*world
	L2    string
	layer digest.Digest
	good  []byte
}

// trustRelier runs a command that relies on stored blobs, after rot (and
// before, in prepare, whatever needs the good state) and checks it.
type trustRelier struct {
	name    string
	prepare func(t *testing.T, c *trustCase) []string // the command to run after the rot
	// repairs: the command carries the right bytes: exit 0, the blob
	// repaired and reported. Otherwise check says what is right.
	repairs bool
	check   func(t *testing.T, c *trustCase, r rtest.Result)
}

var trustReliers = []trustRelier{
	{name: "import of an archive carrying the bytes", repairs: true,
		prepare: func(t *testing.T, c *trustCase) []string { return []string{"import", c.GoodTar, c.L} }},
	{name: "pack --no-cache of the same file", repairs: true,
		prepare: func(t *testing.T, c *trustCase) []string {
			in := c.input(t, "a.bin", c.good)
			return []string{"pack", c.L + ":again", in, "--no-cache", "--artifact-type", rtest.ArtifactType}
		}},
	{name: "pack of the same file", repairs: true,
		prepare: func(t *testing.T, c *trustCase) []string {
			in := c.input(t, "a.bin", c.good)
			return []string{"pack", c.L + ":again", in, "--artifact-type", rtest.ArtifactType}
		}},
	{name: "copy from a good layout", repairs: true,
		prepare: func(t *testing.T, c *trustCase) []string { return []string{"copy", c.L2 + ":v1", c.L + ":copied"} }},
	{name: "verify --repair from the archive", repairs: true,
		prepare: func(t *testing.T, c *trustCase) []string { return []string{"verify", c.L, "--repair", c.GoodTar} }},
	{name: "verify --repair from a layout", repairs: true,
		prepare: func(t *testing.T, c *trustCase) []string { return []string{"verify", c.L, "--repair", c.L2} }},
	{name: "delta import whose excluded blob rotted",
		prepare: func(t *testing.T, c *trustCase) []string {
			rcpt := c.input(t, "site.json", []byte(rtest.Must(t, "receipt", c.L).Stdout))
			delta := filepath.Join(c.In, "delta.tar")
			rtest.Must(t, "export", "-q", c.L2+":v1", "--exclude-from", rcpt, "-o", delta)
			return []string{"import", "-q", delta, c.L} // -q: AssertFail wants the error line alone (no progress lines)
		},
		check: func(t *testing.T, c *trustCase, r rtest.Result) {
			rtest.AssertFail(t, r, rtest.ExitIntegrity, c.layer.String(), "corrupt")
			c.Snap.AssertUnchanged(t)
		}},
	{name: "receipt",
		prepare: func(t *testing.T, c *trustCase) []string { return []string{"receipt", c.L} },
		check: func(t *testing.T, c *trustCase, r rtest.Result) {
			rtest.AssertCode(t, r, 0)
			if strings.Contains(r.Stdout, c.layer.String()) {
				t.Errorf("receipt advertises the rotten blob %s", c.layer)
			}
			if !strings.Contains(r.Stdout, c.Good.Tagged(t, "v1").Digest.String()) {
				t.Errorf("receipt lost the good blobs:\n%s", r.Stdout)
			}
			if !strings.Contains(r.Stderr, c.layer.String()) {
				t.Errorf("receipt does not say it left %s out:\n%s", c.layer, r.Stderr)
			}
		}},
}

func TestI6_TrustedOnlyIfVerified(t *testing.T) {
	t.Parallel()
	for _, rel := range trustReliers {
		for _, rot := range blobRots {
			t.Run(rel.name+"/"+rot.name, func(t *testing.T) {
				t.Parallel()
				c := &trustCase{world: newWorld(t)}
				c.L2 = filepath.Join(c.Dir, "L2")
				rtest.Must(t, "import", "-q", c.GoodTar, c.L)
				rtest.Must(t, "import", "-q", c.GoodTar, c.L2)
				c.layer = c.Good.Manifest(t, "v1").Layers[0].Digest
				c.good = c.Good.Blobs[c.layer]
				args := rel.prepare(t, c)
				p := filepath.Join(c.L, rtest.BlobName(c.layer))
				rot.do(t, p, c.good)
				c.Snap = rtest.Snap(t, c.L)
				r := c.run(t, args...)
				t.Logf("%v", r)
				if rel.check != nil {
					rel.check(t, c, r)
					return
				}
				rtest.AssertCode(t, r, 0)
				if !strings.Contains(r.Stderr, "repaired corrupt blob "+c.layer.String()) {
					t.Errorf("the repair of %s is not reported:\n%s", c.layer, r.Stderr)
				}
				if got, _ := os.ReadFile(p); !bytes.Equal(got, c.good) {
					t.Errorf("the rotten blob was kept (%d bytes)", len(got))
				}
				rtest.AssertVerify(t, c.L)
				rtest.AssertNoStaging(t, c.L)
			})
		}
	}
}
