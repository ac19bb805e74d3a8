package pack_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
)

// laughs is a Chart.yaml of a few KB whose aliases expand to about
// levels^10 × 10 bytes (10^8 for 10: the issue's ~100 MB case).
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v2\nname: mychart\nversion: 1.0.0\nl0: &l0 \"lollollol\"\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), levels), ","))
	}
	return b.String()
}

// TestHelmChartYAMLAliasBudget (issue 12 class 9): a Chart.yaml whose
// aliases expand beyond the JSON budget is refused before anything
// expands it, from a chart directory and from a packaged .tgz alike; a
// chart with a few honest anchors packs.
func TestHelmChartYAMLAliasBudget(t *testing.T) {
	honest := "apiVersion: v2\nname: mychart\nversion: 1.0.0\nmaintainers:\n  - &me {name: me, email: me@example.com}\nannotations:\n  a: x\nx-owner: *me\n"
	cases := []struct {
		name, yaml string
		ok         bool
	}{
		{"billion laughs (~100 MB)", laughs(10), false},
		{"wide laughs", laughs(30), false},
		{"many small aliases over the node budget", "apiVersion: v2\nname: mychart\nversion: 1.0.0\nx: &x [a,b,c,d,e,f,g,h,i,j]\ny: [" + strings.TrimSuffix(strings.Repeat("*x,", 12_000), ",") + "]\n", false},
		{"honest anchors", honest, true},
	}
	for _, c := range cases {
		for _, form := range []string{"directory", "tgz"} {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				var in string
				if form == "directory" {
					in = filepath.Join(t.TempDir(), "mychart")
					mkfile(t, in, "Chart.yaml", []byte(c.yaml), 0o644)
				} else {
					in = writeChartTgz(t, "mychart-1.0.0.tgz", []chartEntry{{name: "mychart/Chart.yaml", data: c.yaml}})
				}
				_, err := tryPack(t.TempDir(), []pack.Input{{Path: in}}, pack.Options{Preset: mustPreset(t, "helm")})
				switch {
				case c.ok && err != nil:
					t.Fatalf("pack: %v", err)
				case !c.ok && !errors.Is(err, layout.ErrInvalidArgument):
					t.Fatalf("pack = %v, want a usage error", err)
				case !c.ok && !strings.Contains(err.Error(), "aliases expanded"):
					t.Errorf("the refusal does not say why: %v", err)
				}
			})
		}
	}
}
