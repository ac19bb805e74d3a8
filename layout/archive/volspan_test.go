package archive

import "testing"

func TestVolumeSpan(t *testing.T) {
	v := func(names ...string) []Volume {
		var out []Volume
		for _, n := range names {
			out = append(out, Volume{Path: n})
		}
		return out
	}
	for _, c := range []struct {
		vols []Volume
		want string
	}{
		{nil, "no parity volume"},
		{v("x.tar.par0"), "parity volume x.tar.par0"},
		{v("x.tar.par0", "x.tar.par1", "x.tar.par2"), "3 parity volumes x.tar.par0 … x.tar.par2"},
	} {
		if got := VolumeSpan(c.vols, "parity volume"); got != c.want {
			t.Errorf("VolumeSpan(%d volumes) = %q, want %q", len(c.vols), got, c.want)
		}
	}
}
