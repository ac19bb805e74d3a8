package archive

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// TestVolumeWriterIgnoresPlantedPartials: a symlink waiting at any
// .partial name the export writes (FILE.partial, FILE.NNN.partial,
// FILE.sha256.partial) is replaced, never written through: the file it
// points at outside the target directory keeps its bytes, and every
// final name is a regular file.
func TestVolumeWriterIgnoresPlantedPartials(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	data := randomBytes(11, 150_000)
	for _, tc := range []struct {
		name  string
		split int64
		files []string // final names, relative to the output file
	}{
		{"unsplit", 0, []string{"", SidecarSuffix}},
		{"split", 64 << 10, []string{".000", ".001", ".002", SidecarSuffix}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sentinel := filepath.Join(t.TempDir(), "sentinel")
			want := []byte("SENTINEL: must survive the export")
			if err := os.WriteFile(sentinel, want, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "x.tar")
			for _, f := range tc.files {
				if err := os.Symlink(sentinel, out+f+partialSuffix); err != nil {
					t.Fatal(err)
				}
			}
			writeVolumes(t, out, tc.split, data)
			if got := readFile(t, sentinel); !bytes.Equal(got, want) {
				t.Fatalf("the export wrote through a planted .partial symlink: sentinel now %d bytes", len(got))
			}
			for _, f := range tc.files {
				fi, err := os.Lstat(out + f)
				if err != nil || !fi.Mode().IsRegular() {
					t.Errorf("%s: %v, %v; want a regular file", out+f, fi, err)
				}
				if _, err := os.Lstat(out + f + partialSuffix); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s left behind: %v", out+f+partialSuffix, err)
				}
			}
		})
	}
}

// An output name that is a directory is refused before anything is
// written, and a Commit that cannot rename a volume onto its final name
// leaves what was there (a directory, an earlier export) in place.
func TestVolumeWriterKeepsWhatIsThere(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.tar")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateVolumes(out, 0); !errors.Is(err, fsx.ErrBadOutput) {
		t.Errorf("CreateVolumes onto a directory: %v, want a usage error", err)
	}
	// Split volumes: volume 000 becomes an (empty) directory before the
	// rename, so Commit fails; Abort must not remove it.
	split := filepath.Join(dir, "y.tar")
	v, err := CreateVolumes(split, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(split+".000", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Commit(); err == nil {
		t.Fatal("Commit renamed a volume over a non-empty directory")
	}
	v.Abort()
	if fi, err := os.Stat(split + ".000"); err != nil || !fi.IsDir() {
		t.Errorf("Abort removed what was at the volume's final name: %v", err)
	}
}
