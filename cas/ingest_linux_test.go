package cas

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/oci-pack/oci-pack/cas/fsx/fsxtest"
)

func init() {
	changes["written through a mapping"] = func(p string) error {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		m, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return err
		}
		m[10] ^= 0xff
		return unix.Munmap(m)
	}
}

// TestReadFromFileClone: on XFS with reflink, a file is cloned, not
// copied (the file system's free space does not shrink by its size),
// hashed once where it lies when its stamps prove it unchanged, and
// re-hashed from the clone when they are too recent to prove anything;
// the blob keeps its bytes when the input is edited afterwards (copy on
// write, not a link); and a change while it is hashed is refused.
func TestReadFromFileClone(t *testing.T) {
	mnt := fsxtest.XFS(t)
	s := ingestStore(t, filepath.Join(mnt, "L"))
	const size = 64 << 20
	free := func() int64 {
		var st unix.Statfs_t
		if err := unix.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Bfree) * int64(st.Bsize)
	}

	t.Run("recent stamps: re-hashed", func(t *testing.T) {
		// Writing and syncing 64 MiB on a loaded machine can take longer
		// than the real window: widen it so "just now" stays recent.
		defer func(w time.Duration) { racyWindow = w }(racyWindow)
		racyWindow = time.Hour
		p, b := randomFile(t, mnt, "fresh", size)
		unix.Sync()
		before := free()
		if m := ingest(t, s, p, b); m != MethodCloneRehashed {
			t.Fatalf("a file written just now stored by %q, want %q", m, MethodCloneRehashed)
		}
		if used := before - free(); used > size/4 {
			t.Fatalf("clone used %d bytes of the file system for a %d-byte file", used, size)
		}
	})

	t.Run("old stamps: trusted", func(t *testing.T) {
		defer func(w time.Duration) { racyWindow = w }(racyWindow)
		racyWindow = 0 // as if the file had been written long ago
		p, b := randomFile(t, mnt, "old", size)
		unix.Sync()
		before := free()
		if m := ingest(t, s, p, b); m != MethodClone {
			t.Fatalf("stored by %q, want %q", m, MethodClone)
		}
		if used := before - free(); used > size/4 {
			t.Fatalf("clone used %d bytes of the file system for a %d-byte file", used, size)
		}
		// Copy on write: editing the input leaves the blob as it was.
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xee}, 4096), 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		d := sha256.Sum256(b)
		got, err := os.ReadFile(filepath.Join(s.Dir(), "blobs", "sha256", fmt.Sprintf("%x", d)))
		if err != nil || sha256.Sum256(got) != d {
			t.Fatalf("blob changed when its input was edited after the pack (%v)", err)
		}
	})

	t.Run("changed while hashed", func(t *testing.T) {
		defer func(w time.Duration) { racyWindow = w }(racyWindow)
		racyWindow = 0
		testChangedWhileStored(t, mnt, s)
	})

	// A mapping already written before the store began: its page stays
	// writable and a second store would set no stamp, were the page not
	// written back and write-protected before the clone.
	t.Run("written through an older mapping", func(t *testing.T) {
		defer func(w time.Duration) { racyWindow = w }(racyWindow)
		racyWindow = 0
		p, _ := randomFile(t, mnt, "mapped", 3*ingestChunk)
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		last := int64(3*ingestChunk - 4096)
		m, err := unix.Mmap(int(f.Fd()), last, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Munmap(m)
		m[0] ^= 0xff // dirty and writable now
		w, err := s.Writer(context.Background(), ocispec.Descriptor{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		var once bool
		meth, err := w.ReadFromFile(context.Background(), f, func(int64) {
			if !once {
				once = true
				m[1] ^= 0xff // the last page is not hashed yet; the clone has it as it was
			}
		})
		if !errors.Is(err, ErrSourceChanged) {
			t.Fatalf("store through a mapping while cloned and hashed (%q): %v, want ErrSourceChanged", meth, err)
		}
	})
}
