package archive

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

// writeVolumes writes b through a VolumeWriter and returns the volumes.
func writeVolumes(t testing.TB, path string, split int64, b []byte) []Volume {
	t.Helper()
	vw, err := CreateVolumes(path, split)
	if err != nil {
		t.Fatal(err)
	}
	for len(b) > 0 { // odd-sized writes cross volume boundaries
		n := min(len(b), 7777)
		if _, err := vw.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	vols, err := vw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return vols
}

func TestVolumesSidecarAndStale(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.tar")
	data := randomBytes(5, 300_000)
	vols := writeVolumes(t, out, 64<<10, data)
	if len(vols) != 5 {
		t.Fatalf("%d volumes", len(vols))
	}
	side := string(readFile(t, out+SidecarSuffix))
	for _, v := range vols {
		if !strings.Contains(side, v.Digest.Encoded()+"  "+filepath.Base(v.Path)+"\n") {
			t.Errorf("sidecar lacks %s:\n%s", v.Path, side)
		}
	}
	// A shorter export to the same name removes the old tail volumes.
	vols = writeVolumes(t, out, 64<<10, data[:100_000])
	if _, err := os.Stat(fmt.Sprintf("%s.%03d", out, len(vols))); !os.IsNotExist(err) {
		t.Errorf("stale volume %d left: %v", len(vols), err)
	}
	vr, err := OpenVolumes([]string{out + ".000"})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(vr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data[:100_000]) {
		t.Error("volumes read back differ")
	}
}

func TestVolumeReaderDamage(t *testing.T) {
	data := randomBytes(6, 200_000)
	setup := func(t *testing.T) (string, []Volume) {
		out := filepath.Join(t.TempDir(), "x.tar")
		return out, writeVolumes(t, out, 64<<10, data)
	}
	t.Run("truncated-volume", func(t *testing.T) {
		out, vols := setup(t)
		os.Truncate(vols[1].Path, 1000)
		vr, err := OpenVolumes([]string{out + ".000"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = new(bytes.Buffer).ReadFrom(vr)
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "checksum mismatch: file truncated or corrupted: "+vols[1].Path) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing-volume", func(t *testing.T) {
		out, vols := setup(t)
		os.Remove(vols[3].Path)
		_, err := OpenVolumes([]string{out + ".000"})
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "x.tar.003") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not-the-first", func(t *testing.T) {
		out, _ := setup(t)
		_, err := OpenVolumes([]string{out + ".001"})
		if err == nil || !strings.Contains(err.Error(), "give "+out+".000") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("gap-in-arguments", func(t *testing.T) {
		out, _ := setup(t)
		// x.tar.001 exists: leaving it out is a mistake on the command line.
		_, err := OpenVolumes([]string{out + ".000", out + ".002", out + ".003"})
		if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), "present but not given: "+out+".001;") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("finish-finds-later-damage", func(t *testing.T) {
		out, vols := setup(t)
		f, _ := os.OpenFile(vols[2].Path, os.O_WRONLY, 0)
		f.WriteAt([]byte{'!'}, 10)
		f.Close()
		vr, err := OpenVolumes([]string{out + ".000"})
		if err != nil {
			t.Fatal(err)
		}
		vr.Read(make([]byte, 100))
		if err := vr.Finish(); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), vols[2].Path) {
			t.Fatalf("Finish = %v", err)
		}
	})
}

func TestVolumeWriterAbort(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.tar")
	vw, err := CreateVolumes(out, 1000)
	if err != nil {
		t.Fatal(err)
	}
	vw.Write(make([]byte, 3500))
	if err := vw.Abort(); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("left behind: %v", es)
	}
	// Pretend all but the last volume were written already (writing a
	// thousand fsynced files would make the test slow), then overflow.
	vw, _ = CreateVolumes(out, 10)
	vw.done = make([]Volume, MaxVolumes-2)
	_, err = vw.Write(make([]byte, 21))
	if err == nil || !strings.Contains(err.Error(), "use a larger split size") {
		t.Errorf("err = %v", err)
	}
	vw.Abort()
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("left behind after too many volumes: %d files", len(es))
	}
}

func TestSidecarFormat(t *testing.T) {
	dir := t.TempDir()
	vols := []Volume{
		{Path: filepath.Join(dir, "plain.tar"), Digest: digest.Digest("sha256:" + strings.Repeat("a", 64))},
		{Path: filepath.Join(dir, "odd\\name\n.tar"), Digest: digest.Digest("sha256:" + strings.Repeat("b", 64))},
	}
	side := filepath.Join(dir, "x.sha256")
	os.WriteFile(side, append(formatSidecar(vols), strings.Repeat("c", 64)+" *binary.tar\n"...), 0o644)
	sums, err := readSidecar(side)
	if err != nil {
		t.Fatal(err)
	}
	if sums["plain.tar"] != vols[0].Digest || sums["odd\\name\n.tar"] != vols[1].Digest || sums["binary.tar"] != digest.Digest("sha256:"+strings.Repeat("c", 64)) {
		t.Errorf("parsed %v", sums)
	}
	for _, bad := range []string{"xyz  a.tar\n", strings.Repeat("a", 64) + "\n", strings.Repeat("a", 64) + "  a\n" + strings.Repeat("b", 64) + "  a\n"} {
		os.WriteFile(side, []byte(bad), 0o644)
		if _, err := readSidecar(side); !errors.Is(err, ErrChecksum) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// TestStaleSignature: Commit removes the signature of an earlier signed
// export to the same name (a regular file: it vouched for another
// sidecar), also beside a split export's sidecar, but not when a signed
// export will replace it; a symlink there is left as it is, its target
// untouched.
func TestStaleSignature(t *testing.T) {
	dir := t.TempDir()
	for _, split := range []int64{0, 4} {
		out := filepath.Join(dir, fmt.Sprintf("x%d.tar", split))
		sig := out + SignatureSuffix
		os.WriteFile(sig, []byte("stale"), 0o644)
		writeVolumes(t, out, split, []byte("new archive"))
		if _, err := os.Lstat(sig); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("split %d: stale signature after Commit: %v", split, err)
		}
	}
	// A signed export replaces it itself (keeping its mode): Commit
	// leaves it.
	kept := filepath.Join(dir, "k.tar")
	os.WriteFile(kept+SignatureSuffix, []byte("to be replaced"), 0o640)
	vw, err := CreateVolumes(kept, 0)
	if err != nil {
		t.Fatal(err)
	}
	vw.keepSignature = true
	vw.Write([]byte("signed archive"))
	if _, err := vw.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(kept + SignatureSuffix); err != nil {
		t.Fatalf("Commit removed the signature a signed export replaces: %v", err)
	}
	out := filepath.Join(dir, "y.tar")
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	os.Symlink(target, out+SignatureSuffix)
	writeVolumes(t, out, 0, []byte("new archive"))
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Fatalf("the symlink's target changed: %q", b)
	}
	if fi, err := os.Lstat(out + SignatureSuffix); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink is gone: %v %v", fi, err)
	}
}
