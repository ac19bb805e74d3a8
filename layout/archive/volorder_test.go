package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
)

// fourVolumes writes x.tar.000 … x.tar.003 and x.tar.sha256 in a new
// directory and returns x.tar's path.
func fourVolumes(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "x.tar")
	if vols := writeVolumes(t, out, 64<<10, randomBytes(12, 200_000)); len(vols) != 4 {
		t.Fatalf("%d volumes, want 4", len(vols))
	}
	return out
}

// openFails opens given and checks the error's class and that it says
// each of says and none of notSays.
func openFails(t *testing.T, given []string, class error, says, notSays []string) {
	t.Helper()
	_, err := OpenVolumes(given)
	if !errors.Is(err, class) {
		t.Fatalf("OpenVolumes(%v) = %v, want %v", given, err, class)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	for _, s := range notSays {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q says %q", err, s)
		}
	}
}

// TestVolumeOrderIsUsage: volumes given out of order, twice, mixed with
// another file, or a later one given alone are usage errors (exit 2);
// out-of-order names the order to use.
func TestVolumeOrderIsUsage(t *testing.T) {
	out := fourVolumes(t)
	v := func(n string) string { return out + "." + n }
	openFails(t, []string{v("001"), v("000"), v("002"), v("003")}, layout.ErrInvalidArgument,
		[]string{"out of order", "give them in order, " + strings.Join([]string{v("000"), v("001"), v("002"), v("003")}, " ")}, nil)
	openFails(t, []string{v("000"), v("002"), v("001"), v("003")}, layout.ErrInvalidArgument,
		[]string{"out of order", strings.Join([]string{v("000"), v("001"), v("002"), v("003")}, " ")}, nil)
	openFails(t, []string{v("000"), v("000"), v("001")}, layout.ErrInvalidArgument, []string{v("000") + " given twice"}, nil)
	openFails(t, []string{v("000"), out + ".other"}, layout.ErrInvalidArgument, []string{out + ".other is not a volume of " + out}, nil)
	openFails(t, []string{v("001")}, layout.ErrInvalidArgument, []string{"give " + v("000")}, nil)
	openFails(t, []string{v("000"), v("001")}, layout.ErrInvalidArgument, []string{"lists x.tar.002, x.tar.003, present but not given"}, nil)
	openFails(t, []string{v("001"), v("002"), v("003")}, layout.ErrInvalidArgument, []string{"present but not given: " + v("000") + ";"}, nil)
	if _, err := OpenVolumes([]string{v("000"), v("001"), v("002"), v("003")}); err != nil {
		t.Errorf("all four in order: %v", err)
	}
}

// TestVolumeMissingMiddle: a missing middle volume is ErrTruncated naming
// only it as missing, not the later volumes that are there, with or
// without the sidecar, given alone or one by one.
func TestVolumeMissingMiddle(t *testing.T) {
	for _, sidecar := range []bool{true, false} {
		out := fourVolumes(t)
		if !sidecar {
			os.Remove(out + SidecarSuffix)
		}
		v := func(n string) string { return out + "." + n }
		os.Remove(v("001"))
		alone := "volumes not found: " + v("001") + " (" + v("002") + " is there"
		if sidecar {
			alone = "lists x.tar.001, not found"
		}
		openFails(t, []string{v("000")}, ErrTruncated, []string{alone}, []string{"x.tar.002,", "x.tar.003,"})
		openFails(t, []string{v("000"), v("002"), v("003")}, ErrTruncated, []string{"volumes not found: " + v("001") + " (given:"}, []string{"x.tar.002,"})
	}
}

// TestVolumeMissingLast: the sidecar names the missing last volume, and
// only it.
func TestVolumeMissingLast(t *testing.T) {
	out := fourVolumes(t)
	os.Remove(out + ".003")
	openFails(t, []string{out + ".000"}, ErrTruncated, []string{"lists x.tar.003, not found"}, []string{"x.tar.002"})
}

// TestVolumeStaleLater: with a sidecar saying the archive is complete, a
// stale volume further on (from an older export) is not taken for a gap.
func TestVolumeStaleLater(t *testing.T) {
	out := fourVolumes(t)
	if err := os.WriteFile(out+".007", []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, given := range [][]string{{out + ".000"}, {out + ".000", out + ".001", out + ".002", out + ".003"}} {
		vr, err := OpenVolumes(given)
		if err != nil || len(vr.Paths()) != 4 {
			t.Fatalf("%v: %v", given, err)
		}
		vr.Close()
	}
}

// TestSidecarListsNonVolume: a sidecar listing a file that exists but is
// not a volume of the archive (here: itself) is a checksum error, not a
// usage error.
func TestSidecarListsNonVolume(t *testing.T) {
	out := fourVolumes(t)
	f, err := os.OpenFile(out+SidecarSuffix, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Repeat("0", 64) + "  x.tar.sha256\n")
	f.Close()
	openFails(t, []string{out + ".000"}, ErrChecksum, []string{"lists x.tar.sha256, which is not a volume of"}, nil)
}
