package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas/fsx"
	"github.com/oci-pack/oci-pack/layout"
)

// Sizes that cross chunk boundaries: volumes of 1.5 MiB + 7 bytes (two
// parity chunks, the second partial), the last volume shorter.
const (
	testSplit = 3<<19 + 7
	testTotal = 7<<20 + 12345
)

// writeParityVolumes writes b as split volumes of out with n parity
// volumes and returns the data and parity volumes.
func writeParityVolumes(t testing.TB, out string, split int64, n int, b []byte) ([]Volume, []Volume) {
	t.Helper()
	vw, err := CreateVolumes(out, split)
	if err != nil {
		t.Fatal(err)
	}
	if err := vw.SetParity(n); err != nil {
		t.Fatal(err)
	}
	for len(b) > 0 { // odd-sized writes cross volume and chunk boundaries
		k := min(len(b), 300_001)
		if _, err := vw.Write(b[:k]); err != nil {
			t.Fatal(err)
		}
		b = b[k:]
	}
	vols, err := vw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return vols, vw.ParityVolumes()
}

// joined is the data volumes of out concatenated.
func joined(t testing.TB, vols []Volume) []byte {
	var b []byte
	for _, v := range vols {
		b = append(b, readFile(t, v.Path)...)
	}
	return b
}

// snapshot records every file of the set, to compare after a repair.
func snapshot(t testing.TB, data, par []Volume) map[string][]byte {
	m := map[string][]byte{}
	for _, v := range append(append([]Volume{}, data...), par...) {
		m[v.Path] = readFile(t, v.Path)
	}
	return m
}

func sameFiles(t testing.TB, want map[string][]byte) {
	t.Helper()
	for p, b := range want {
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s differs after repair (%v)", filepath.Base(p), err)
		}
	}
}

// TestParityMatchesBlockEncoding checks the streaming encoder (one
// volume at a time, over MaxParityData columns) against the block
// encoder for exactly k data shards, zero-padded: the two must agree,
// or parity written while streaming could not be decoded.
func TestParityMatchesBlockEncoding(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.tar")
	data := randomBytes(1, testTotal)
	vols, par := writeParityVolumes(t, out, testSplit, 3, data)
	k := len(vols)
	if k != 5 || len(par) != 3 {
		t.Fatalf("%d data and %d parity volumes, want 5 and 3", k, len(par))
	}
	codec, err := newParityCodec(k, 3)
	if err != nil {
		t.Fatal(err)
	}
	shards := make([][]byte, k+3)
	for j := range k {
		shards[j] = make([]byte, testSplit)
		copy(shards[j], readFile(t, vols[j].Path))
	}
	for p := range 3 {
		shards[k+p] = make([]byte, testSplit)
	}
	if err := codec.Encode(shards); err != nil {
		t.Fatal(err)
	}
	for p, v := range par {
		b := readFile(t, v.Path)
		if !bytes.Equal(b[:testSplit], shards[k+p]) {
			t.Errorf("parity volume %d differs from the block encoding", p)
		}
		tr, err := readTrailer(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", v.Path, err)
		}
		if tr.Index != p || tr.Parity != 3 || len(tr.Volumes) != k || tr.Volumes[k-1].Size != vols[k-1].Size {
			t.Errorf("trailer %+v", tr)
		}
	}
	if !bytes.Equal(joined(t, vols), data) {
		t.Error("data volumes are not the stream's byte ranges")
	}
}

func TestParitySidecarAndTools(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.tar")
	vols, par := writeParityVolumes(t, out, testSplit, 2, randomBytes(2, testTotal))
	side := string(readFile(t, out+SidecarSuffix))
	for _, v := range append(vols, par...) {
		if !strings.Contains(side, v.Digest.Encoded()+"  "+filepath.Base(v.Path)+"\n") {
			t.Errorf("sidecar lacks %s:\n%s", v.Path, side)
		}
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "--strict", "-c", filepath.Base(out)+SidecarSuffix)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, b)
		}
	}
	// The import side reads the data volumes and ignores the parity ones.
	vr, err := OpenVolumes([]string{out + ".000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := vr.Finish(); err != nil {
		t.Fatal(err)
	}
	// An export to the same name without parity removes the old parity.
	writeVolumes(t, out, testSplit, randomBytes(3, 100_000))
	if _, err := os.Stat(ParityPath(out, 0)); !os.IsNotExist(err) {
		t.Errorf("stale parity volume left: %v", err)
	}
}

func TestParitySetParityRefused(t *testing.T) {
	dir := t.TempDir()
	vw, err := CreateVolumes(filepath.Join(dir, "one.tar"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer vw.Abort()
	if err := vw.SetParity(2); !errors.Is(err, layout.ErrInvalidArgument) {
		t.Errorf("parity without split: %v", err)
	}
	vw2, err := CreateVolumes(filepath.Join(dir, "two.tar"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer vw2.Abort()
	if err := vw2.SetParity(MaxParity + 1); !errors.Is(err, layout.ErrInvalidArgument) {
		t.Errorf("parity %d: %v", MaxParity+1, err)
	}
}

func TestParityTooManyDataVolumes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.tar")
	vw, err := CreateVolumes(out, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := vw.SetParity(1); err != nil {
		t.Fatal(err)
	}
	_, err = vw.Write(make([]byte, 10*MaxParityData+1))
	if err == nil || !strings.Contains(err.Error(), "larger split size") {
		t.Errorf("error %v, want one asking for a larger split size", err)
	}
	vw.Abort()
	if left, _ := filepath.Glob(out + "*"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestRepair(t *testing.T) {
	data := randomBytes(4, testTotal)
	setup := func(t *testing.T, n int) (string, []Volume, []Volume, map[string][]byte) {
		out := filepath.Join(t.TempDir(), "x.tar")
		vols, par := writeParityVolumes(t, out, testSplit, n, data)
		return out, vols, par, snapshot(t, vols, par)
	}
	ctx := context.Background()
	repair := func(t *testing.T, path string, want ...string) *RepairResult {
		t.Helper()
		res, err := Repair(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Rebuilt {
			got = append(got, strings.Fields(r)[0])
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("rebuilt %q, want %q", res.Rebuilt, want)
		}
		if !res.Verified {
			t.Error("not verified")
		}
		return res
	}
	t.Run("two-data-volumes-deleted", func(t *testing.T) {
		out, vols, _, snap := setup(t, 2)
		os.Remove(vols[1].Path)
		os.Remove(vols[3].Path)
		repair(t, out+".000", "x.tar.001", "x.tar.003")
		sameFiles(t, snap)
	})
	t.Run("last-and-first-volume", func(t *testing.T) {
		out, vols, _, snap := setup(t, 2)
		os.Remove(vols[0].Path)
		os.Truncate(vols[len(vols)-1].Path, 10)
		repair(t, out+".par1", "x.tar.000", "x.tar.004")
		sameFiles(t, snap)
	})
	t.Run("data-and-parity", func(t *testing.T) {
		out, vols, par, snap := setup(t, 2)
		os.Remove(vols[2].Path)
		os.Remove(par[1].Path)
		repair(t, out+".000", "x.tar.002", "x.tar.par1")
		sameFiles(t, snap)
	})
	t.Run("corrupt-in-place", func(t *testing.T) {
		out, vols, _, snap := setup(t, 1)
		flipByte(t, vols[2].Path, 1<<20+5)
		res := repair(t, out+".000", "x.tar.002")
		if !strings.Contains(res.Rebuilt[0], "corrupted") {
			t.Errorf("reason: %q", res.Rebuilt[0])
		}
		sameFiles(t, snap)
	})
	t.Run("intact", func(t *testing.T) {
		out, _, _, snap := setup(t, 2)
		repair(t, out+".003")
		sameFiles(t, snap)
	})
	t.Run("more-losses-than-parity", func(t *testing.T) {
		out, vols, par, _ := setup(t, 2)
		os.Remove(vols[0].Path)
		os.Remove(vols[4].Path)
		flipByte(t, par[0].Path, 3)
		_, err := Repair(ctx, out+".001")
		if !errors.Is(err, ErrUnrecoverable) || !errors.Is(err, ErrChecksum) {
			t.Fatalf("error %v, want ErrUnrecoverable", err)
		}
		for _, name := range []string{"x.tar.000 (missing)", "x.tar.004 (missing)", "x.tar.par0"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
		if left, _ := filepath.Glob(out + "*.partial"); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	t.Run("parity-swapped", func(t *testing.T) {
		out, _, par, snap := setup(t, 2)
		os.Rename(par[0].Path, out+".tmp")
		os.Rename(par[1].Path, par[0].Path)
		os.Rename(out+".tmp", par[1].Path)
		res := repair(t, out+".000", "x.tar.par0", "x.tar.par1")
		if !strings.Contains(res.Rebuilt[0], "holds parity volume 1, not 0") {
			t.Errorf("reason: %q", res.Rebuilt[0])
		}
		sameFiles(t, snap)
	})
	t.Run("parity-duplicated", func(t *testing.T) {
		out, _, par, snap := setup(t, 2)
		os.WriteFile(par[1].Path, readFile(t, par[0].Path), 0o644)
		repair(t, out+".000", "x.tar.par1")
		sameFiles(t, snap)
	})
	t.Run("parity-truncated", func(t *testing.T) {
		out, _, par, snap := setup(t, 2)
		os.Truncate(par[0].Path, 1<<20)
		res := repair(t, out+".000", "x.tar.par0")
		if !strings.Contains(res.Rebuilt[0], "footer") {
			t.Errorf("reason: %q", res.Rebuilt[0])
		}
		sameFiles(t, snap)
	})
	t.Run("parity-from-another-export", func(t *testing.T) {
		out, _, par, snap := setup(t, 2)
		other := filepath.Join(t.TempDir(), "x.tar")
		_, opar := writeParityVolumes(t, other, testSplit, 2, randomBytes(99, testTotal))
		os.WriteFile(par[0].Path, readFile(t, opar[0].Path), 0o644)
		res := repair(t, out+".000", "x.tar.par0")
		if !strings.Contains(res.Rebuilt[0], "another export") {
			t.Errorf("reason: %q", res.Rebuilt[0])
		}
		sameFiles(t, snap)
		// Without the sidecar nothing says which parity is right.
		os.WriteFile(par[1].Path, readFile(t, opar[1].Path), 0o644)
		os.Remove(out + SidecarSuffix)
		os.WriteFile(par[0].Path, snap[par[0].Path], 0o644)
		_, err := Repair(ctx, out+".000")
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "list different data volumes") {
			t.Errorf("error %v, want parity volumes that disagree", err)
		}
	})
	t.Run("all-parity-foreign", func(t *testing.T) {
		out, _, par, _ := setup(t, 2)
		other := filepath.Join(t.TempDir(), "x.tar")
		_, opar := writeParityVolumes(t, other, testSplit, 2, randomBytes(98, testTotal))
		for i := range par {
			os.WriteFile(par[i].Path, readFile(t, opar[i].Path), 0o644)
		}
		_, err := Repair(ctx, out+".000")
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "another export") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("wrong-parity-no-sidecar", func(t *testing.T) {
		out, _, par, snap := setup(t, 2)
		os.Remove(out + SidecarSuffix)
		flipByte(t, par[1].Path, 1<<20+3)
		res := repair(t, out+".000", "x.tar.par1")
		if !strings.Contains(res.Rebuilt[0], "do not match the data") {
			t.Errorf("reason: %q", res.Rebuilt[0])
		}
		if res.Sidecar == "" {
			t.Error("sidecar not rewritten")
		}
		sameFiles(t, snap)
		if _, err := exec.LookPath("sha256sum"); err == nil {
			cmd := exec.Command("sha256sum", "--strict", "-c", "x.tar.sha256")
			cmd.Dir = filepath.Dir(out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c on the rewritten sidecar: %v\n%s", err, b)
			}
		}
	})
	t.Run("symlink-not-replaced", func(t *testing.T) {
		out, vols, _, _ := setup(t, 2)
		target := filepath.Join(t.TempDir(), "elsewhere")
		os.WriteFile(target, []byte("keep"), 0o644)
		os.Remove(vols[1].Path)
		os.Symlink(target, vols[1].Path)
		_, err := Repair(ctx, out+".000")
		if !errors.Is(err, fsx.ErrNotRegular) || !strings.Contains(err.Error(), "x.tar.001") {
			t.Errorf("error %v", err)
		}
		if string(readFile(t, target)) != "keep" {
			t.Error("symlink target changed")
		}
	})
	t.Run("no-parity", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "x.tar")
		writeVolumes(t, out, testSplit, data)
		if _, err := Repair(ctx, out+".000"); !errors.Is(err, layout.ErrInvalidArgument) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("one-data-volume", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "x.tar")
		vols, par := writeParityVolumes(t, out, 1<<30, 1, data[:5000])
		snap := snapshot(t, vols, par)
		os.Remove(vols[0].Path)
		repair(t, out+".par0", "x.tar.000")
		sameFiles(t, snap)
	})
}

func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// TestExportParityVolumeLimit: with parity, a split size that would need
// more than MaxParityData data volumes is refused before anything is
// written, naming the smallest split size that fits.
func TestExportParityVolumeLimit(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	l := openLayout(t, src)
	defer l.Close()
	packTag(t, l, "v1", 5, map[string]int{"a.bin": 10 << 20}, nil)
	out := filepath.Join(t.TempDir(), "x.tar")
	_, _, err := ExportFile(context.Background(), l, out, 40<<10, ExportOptions{Parity: 2})
	if !errors.Is(err, ErrTooManyVolumes) || !strings.Contains(err.Error(), "224 data volumes parity volumes cover") {
		t.Fatalf("error %v", err)
	}
	if left, _ := filepath.Glob(out + "*"); len(left) > 0 {
		t.Errorf("written: %v", left)
	}
	if _, _, err := ExportFile(context.Background(), l, out, 40<<10, ExportOptions{}); err != nil {
		t.Errorf("the same split without parity: %v", err)
	}
}
