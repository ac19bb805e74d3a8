package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOperations: medians come from successful runs only; the floor is
// the slowest of its ids, the peer the fastest; operations oci-pack did
// not run are left out.
func TestOperations(t *testing.T) {
	results := strings.Join([]string{
		"p_raw\t1\t0\t2.0\t1\t1\t1000\t0\t",
		"p_raw\t2\t0\t4.0\t1\t1\t1000\t0\t",
		"p_raw\t3\t0\t3.0\t1\t1\t1000\t0\t",
		"p_raw\t4\t1\t0.1\t1\t1\t1000\t0\t", // failed: ignored
		"f_sha\t1\t0\t1.0\t1\t1\t1000\t0\t",
		"f_cp\t1\t0\t2.0\t1\t1\t1000\t0\t",
		"x_oras\t1\t0\t6.0\t1\t1\t1000\t0\t",
		"x_other\t1\t0\t4.0\t1\t1\t1000\t0\t",
	}, "\n")
	walls, err := medianWalls(strings.NewReader(results))
	if err != nil {
		t.Fatal(err)
	}
	if walls["p_raw"] != 3.0 {
		t.Fatalf("median of p_raw = %v, want 3 (the failed run left out)", walls["p_raw"])
	}
	spec := "pack raw\t6000000\tp_raw\tf_sha,f_cp\tx_oras,x_other\nnot run\t1000\tt_none\t-\t-\n"
	ops, err := operations(strings.NewReader(spec), walls)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 {
		t.Fatalf("%d operations, want 1 (t_none never ran)", len(ops))
	}
	o := ops[0]
	if o.oci != 2 || o.floor != 3 || o.floorName != "f_cp" || o.peer != 1.5 || o.peerName != "x_other" {
		t.Fatalf("got %+v, want oci 2, floor 3 (f_cp, the slower), peer 1.5 (x_other, the faster)", o)
	}
	if _, err := operations(strings.NewReader("bad line\n"), walls); err == nil {
		t.Fatal("a spec line without five fields was accepted")
	}
}

// TestDraw: the PNG decodes, one band per operation, and the longest
// bar is the fastest throughput's.
func TestDraw(t *testing.T) {
	dir := t.TempDir()
	res, spec, out := filepath.Join(dir, "r.tsv"), filepath.Join(dir, "c.tsv"), filepath.Join(dir, "c.png")
	os.WriteFile(res, []byte("a\t1\t0\t1.0\nb\t1\t0\t2.0\nc\t1\t0\t0.5\n"), 0o644)
	os.WriteFile(spec, []byte("op one\t1000000\ta\tb\tc\nop two\t1000000\tb\t-\t-\n"), 0o644)
	if err := run(res, spec, out, "test"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	top := margin + 2*glyphH*scale + 10
	wantH := top + 2*(3*barH+groupGp) + margin + glyphH*scale
	if img.Bounds().Dy() != wantH {
		t.Fatalf("height %d, want %d for two operations", img.Bounds().Dy(), wantH)
	}
	// The peer bar of "op one" (c: 2 MB/s, the peak) spans the plot.
	y := top + 2*barH + barH/2
	r, g, b, _ := img.At(margin+labelW+plotW-1, y).RGBA()
	want := series[2].c
	if uint8(r>>8) != want.R || uint8(g>>8) != want.G || uint8(b>>8) != want.B {
		t.Fatalf("pixel at the end of the fastest bar is %d,%d,%d, want the peer colour", r>>8, g>>8, b>>8)
	}
}
