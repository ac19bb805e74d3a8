//go:build unix

package adversarial

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

// outputPos is one place a command writes a path it was given (or one
// derived from it): where the thing under test is planted, and the bytes
// that must reach it when it is written or streamed to.
type outputPos struct {
	name string
	args func(w *world, p string) []string // the command, writing output p
	at   func(p string) string             // where the kind is planted
	want func(ref refOut, p string) []byte // the bytes that belong there
	// filesOnly: a stream there is refused (split volumes).
	filesOnly bool
	// sidecar: the position checked for a sidecar beside a stream.
	sidecar bool
	env     []string
}

// refOut are the reference bytes of an uninterrupted run.
type refOut struct{ archive, receipt []byte }

func outputPositions() []outputPos {
	same := func(p string) string { return p }
	return []outputPos{
		{name: "export -o", sidecar: true,
			args: func(w *world, p string) []string { return []string{"export", "-q", w.L + ":v1", "-o", p} },
			at:   same, want: func(r refOut, _ string) []byte { return r.archive }},
		{name: "export volume", filesOnly: true,
			args: func(w *world, p string) []string {
				return []string{"export", "-q", w.L + ":v1", "-o", p, "--split-size", "4KiB"}
			},
			at:   func(p string) string { return p + ".000" },
			want: func(r refOut, _ string) []byte { return r.archive[:4096] }},
		{name: "export sidecar",
			args: func(w *world, p string) []string { return []string{"export", "-q", w.L + ":v1", "-o", p} },
			at:   func(p string) string { return p + ".sha256" },
			want: func(r refOut, p string) []byte {
				sum := sha256.Sum256(r.archive)
				return []byte(hex.EncodeToString(sum[:]) + "  " + filepath.Base(p) + "\n")
			}},
		{name: "receipt -o",
			args: func(w *world, p string) []string { return []string{"receipt", "-q", w.L, "-o", p} },
			at:   same, want: func(r refOut, _ string) []byte { return r.receipt }},
		{name: "export --sign bundle", env: []string{"OCI_PACK_PASSWORD=" + signPassword},
			args: func(w *world, p string) []string {
				return []string{"export", "-q", w.L + ":v1", "-o", p, "--sign", filepath.Join(w.In, "k.key")}
			},
			at:   func(p string) string { return p + ".sigstore.json" },
			want: func(refOut, string) []byte { return nil }}, // signatures differ run to run
	}
}

const signPassword = "i13-test"

// outputKind is something that can be at an output path, and what the
// rule (RELIABILITY I13) does with it: written (a regular file: created,
// or replaced keeping its mode; through a symlink, the target), streamed
// (a FIFO, a character device: the bytes go to it, it stays), or refused
// (exit 2, left as it was).
type outputKind struct {
	name string
	// plant makes the kind at p and returns the check run afterwards.
	plant func(t *testing.T, p string) func(t *testing.T, r rtest.Result, want []byte)
	// stream: a stream (refused where only files will do).
	stream bool
	// refused: always refused.
	refused bool
}

func outputKinds() []outputKind {
	return []outputKind{
		{name: "nothing", plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			return func(t *testing.T, r rtest.Result, want []byte) { assertBytes(t, p, want) }
		}},
		{name: "regular file", plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			os.WriteFile(p, []byte("an old file"), 0o600)
			os.Chmod(p, 0o640)
			return func(t *testing.T, r rtest.Result, want []byte) {
				assertBytes(t, p, want)
				if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
					t.Errorf("[I13] the replaced file did not keep its mode 0640: %v %v", fi.Mode(), err)
				}
			}
		}},
		{name: "symlink to a regular file", plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			target := filepath.Join(filepath.Dir(p), "elsewhere", filepath.Base(p))
			os.MkdirAll(filepath.Dir(target), 0o755)
			os.WriteFile(target, []byte("an old file"), 0o644)
			os.Symlink(target, p)
			return func(t *testing.T, r rtest.Result, want []byte) {
				assertLink(t, p, target)
				assertBytes(t, target, want)
			}
		}},
		{name: "FIFO with a reader", stream: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			got := readFIFO(t, p)
			return func(t *testing.T, r rtest.Result, want []byte) {
				b := got()
				if r.Code == 0 && !sameOutput(b, want) {
					t.Errorf("[I13] the FIFO's reader got %d bytes, want the %d of the output", len(b), len(want))
				}
				assertKind(t, p, fs.ModeNamedPipe)
			}
		}},
		{name: "character device", stream: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			dev := nullDevice(t, filepath.Join(filepath.Dir(p), "null"))
			os.Symlink(dev, p)
			before := identity(t, dev)
			return func(t *testing.T, r rtest.Result, want []byte) {
				assertLink(t, p, dev)
				if after := identity(t, dev); after != before {
					t.Errorf("[I13] %s was replaced: %s, was %s", dev, after, before)
				}
			}
		}},
		{name: "symlink to /dev/stdout", stream: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			os.Symlink("/dev/stdout", p)
			return func(t *testing.T, r rtest.Result, want []byte) {
				assertLink(t, p, "/dev/stdout")
				if r.Code == 0 && !sameOutput([]byte(r.Stdout), want) {
					t.Errorf("[I13] stdout got %d bytes, want the %d of the output", len(r.Stdout), len(want))
				}
			}
		}},
		{name: "dangling symlink", refused: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			target := filepath.Join(filepath.Dir(p), "nowhere", "x")
			os.Symlink(target, p)
			return func(t *testing.T, r rtest.Result, want []byte) {
				assertLink(t, p, target)
				if _, err := os.Lstat(filepath.Dir(target)); err == nil {
					t.Error("[I13] the dangling link's target was created")
				}
			}
		}},
		{name: "directory", refused: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			os.Mkdir(p, 0o755)
			return func(t *testing.T, r rtest.Result, want []byte) {
				assertKind(t, p, fs.ModeDir)
				if entries, _ := os.ReadDir(p); len(entries) > 0 {
					t.Errorf("[I13] something was written into the directory %s", p)
				}
			}
		}},
		{name: "symlink to a directory", refused: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			d := filepath.Join(filepath.Dir(p), "adir")
			os.Mkdir(d, 0o755)
			os.Symlink(d, p)
			return func(t *testing.T, r rtest.Result, want []byte) { assertLink(t, p, d) }
		}},
		{name: "socket", refused: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			fd, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			t.Cleanup(func() { syscall.Close(fd) })
			if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: p}); err != nil {
				t.Skip("bind:", err)
			}
			return func(t *testing.T, r rtest.Result, want []byte) { assertKind(t, p, fs.ModeSocket) }
		}},
		{name: "block device", refused: true, plant: func(t *testing.T, p string) func(*testing.T, rtest.Result, []byte) {
			if err := syscall.Mknod(p, syscall.S_IFBLK|0o600, 7<<8|250); err != nil {
				t.Skip("mknod needs root:", err)
			}
			return func(t *testing.T, r rtest.Result, want []byte) { assertKind(t, p, fs.ModeDevice) }
		}},
	}
}

// TestI13_OutputPaths runs every command that writes a path it was given
// against every kind of thing that can be at that path (I13): a regular
// file or nothing is written (replaced keeping its mode, or created), a
// FIFO or a character device streamed to and left in place, a symlink
// followed to a regular file (the link stays a link) or to a stream, and
// anything else — a directory, a dangling link, a socket, a block device,
// and a stream at a split volume's name — refused with exit 2 and left as
// it was. No .partial is ever left, a stream gets no sidecar beside it,
// and the real /dev/null is never touched.
func TestI13_OutputPaths(t *testing.T) {
	devNull := identity(t, "/dev/null")
	t.Cleanup(func() {
		if got := identity(t, "/dev/null"); got != devNull {
			t.Errorf("/dev/null changed: %s, was %s", got, devNull)
		}
	})
	w := newWorldWith(t, rtest.Good(t))
	ref := refOut{
		archive: []byte(rtest.Must(t, "export", "-q", w.L+":v1", "-o", "-").Stdout),
		receipt: []byte(rtest.Must(t, "receipt", w.L).Stdout),
	}
	if r := rtest.RunWith(t, rtest.Opts{Dir: w.In, Env: []string{"OCI_PACK_PASSWORD=" + signPassword}}, "key", "generate", "-q", "--output-key-prefix", "k"); r.Code != 0 {
		t.Fatalf("key generate: %v", r)
	}
	for _, pos := range outputPositions() {
		for _, kind := range outputKinds() {
			t.Run(pos.name+"/"+kind.name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "out.tar")
				check := kind.plant(t, pos.at(p))
				r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Env: pos.env, Timeout: 30 * time.Second}, pos.args(w, p)...)
				refused := kind.refused || (kind.stream && pos.filesOnly)
				if refused {
					rtest.AssertFail(t, r, rtest.ExitUsage, filepath.Base(pos.at(p)))
				} else {
					rtest.AssertCode(t, r, rtest.ExitOK)
				}
				check(t, r, pos.want(ref, p))
				if kind.stream && pos.sidecar {
					if _, err := os.Lstat(p + ".sha256"); err == nil {
						t.Errorf("[I13] a sidecar was written beside the stream %s", p)
					}
				}
				noPartials(t, dir)
			})
		}
	}
	rtest.AssertVerify(t, w.L)
}

// TestI13_ExtractTargets: the names extract writes come from the
// artifact, not the user, so nothing at one is ever followed or streamed
// to (E-49): whatever is there is a conflict (exit 4) and stays; with
// --overwrite a regular file is replaced and a symlink replaced by the
// file (never its target), but a FIFO, a device, a socket or a directory
// is still never replaced. Nothing blocks on a FIFO without a reader.
func TestI13_ExtractTargets(t *testing.T) {
	w := newWorldWith(t, rtest.Good(t))
	want := w.Good.Blobs[w.Good.Manifest(t, "v1").Layers[0].Digest]
	kinds := []struct {
		name     string
		plant    func(t *testing.T, p string) error
		replaced bool // by --overwrite
	}{
		{"regular file", func(t *testing.T, p string) error { return os.WriteFile(p, []byte("mine"), 0o644) }, true},
		{"symlink to a file outside", func(t *testing.T, p string) error { return os.Symlink(w.S.Path("secret"), p) }, true},
		{"dangling symlink", func(t *testing.T, p string) error { return os.Symlink("nowhere/x", p) }, true},
		{"FIFO", func(t *testing.T, p string) error { return syscall.Mkfifo(p, 0o644) }, false},
		{"character device", func(t *testing.T, p string) error { return syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3) }, false},
		{"directory", func(t *testing.T, p string) error { return os.Mkdir(p, 0o755) }, false},
		{"socket", func(t *testing.T, p string) error {
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			t.Cleanup(func() { syscall.Close(fd) })
			return syscall.Bind(fd, &syscall.SockaddrUnix{Name: p})
		}, false},
	}
	for _, k := range kinds {
		for _, overwrite := range []bool{false, true} {
			name := k.name
			if overwrite {
				name += "/--overwrite"
			}
			t.Run(name, func(t *testing.T) {
				out := t.TempDir()
				p := filepath.Join(out, "a.bin")
				if err := k.plant(t, p); err != nil {
					t.Skip(err) // mknod needs root
				}
				before, _ := os.Lstat(p)
				args := []string{"extract", "-q", w.L + ":v1", "-o", out}
				if overwrite {
					args = append(args, "--overwrite")
				}
				r := rtest.RunWith(t, rtest.Opts{Dir: w.Work, Timeout: 30 * time.Second}, args...)
				if overwrite && k.replaced {
					rtest.AssertCode(t, r, rtest.ExitOK)
					assertBytes(t, p, want)
				} else {
					rtest.AssertFail(t, r, rtest.ExitConflict, "a.bin")
					after, err := os.Lstat(p)
					if err != nil || !os.SameFile(before, after) || before.Mode() != after.Mode() {
						t.Errorf("[I13] %s was replaced", p)
					}
					if _, err := os.Lstat(filepath.Join(out, "b.bin")); err == nil {
						t.Error("[N] b.bin was written although the extraction was refused")
					}
				}
				w.S.AssertIntact(t)
			})
		}
	}
}
