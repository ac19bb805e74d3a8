// Command chart draws the benchmark's throughput chart: for each
// operation, three horizontal bars — oci-pack, its floor, the best peer —
// in MB/s (the operation's input bytes ÷ the median wall seconds of the
// successful runs). It reads only the harness's results and a spec, so
// the PNG can be drawn again from a run's scratch directory at any time.
// Standard library only (image/png and a built-in 5×7 font).
//
// Usage:
//
//	chart -results results.tsv -spec chart.tsv -o BENCHMARKS.png [-title T]
//
// results.tsv: id run exit wall_s … (scripts/bench/lib.sh).
// chart.tsv, one operation per line, tab-separated:
//
//	LABEL  BYTES  OCI-PACK-ID  FLOOR-IDS  PEER-IDS
//
// FLOOR-IDS and PEER-IDS are comma-separated ids, or "-": the floor is
// the slowest of its ids (as the raw pack's floor is the larger of
// hashing and copying), the peer the fastest of its ids. Operations whose
// oci-pack id has no successful run are left out.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

func main() {
	results := flag.String("results", "", "results.tsv of a bench run")
	spec := flag.String("spec", "", "chart.tsv: the operations to draw")
	out := flag.String("o", "", "PNG to write")
	title := flag.String("title", "oci-pack throughput, MB/s (higher is better)", "chart title")
	flag.Parse()
	if *results == "" || *spec == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: chart -results results.tsv -spec chart.tsv -o OUT.png [-title T]")
		os.Exit(2)
	}
	if err := run(*results, *spec, *out, *title); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(resultsPath, specPath, outPath, title string) error {
	rf, err := os.Open(resultsPath)
	if err != nil {
		return err
	}
	defer rf.Close()
	walls, err := medianWalls(rf)
	if err != nil {
		return err
	}
	sf, err := os.Open(specPath)
	if err != nil {
		return err
	}
	defer sf.Close()
	ops, err := operations(sf, walls)
	if err != nil {
		return err
	}
	f, err := os.Create(outPath + ".tmp")
	if err != nil {
		return err
	}
	if err := png.Encode(f, draw(title, ops)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(outPath+".tmp", outPath)
}

// medianWalls reads results.tsv: the median wall seconds of each id's
// successful runs.
func medianWalls(r io.Reader) (map[string]float64, error) {
	all := map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 4 || f[2] != "0" {
			continue
		}
		w, err := strconv.ParseFloat(f[3], 64)
		if err != nil || w <= 0 {
			continue
		}
		all[f[0]] = append(all[f[0]], w)
	}
	med := map[string]float64{}
	for id, ws := range all {
		sort.Float64s(ws)
		n := len(ws)
		if n%2 == 1 {
			med[id] = ws[n/2]
		} else {
			med[id] = (ws[n/2-1] + ws[n/2]) / 2
		}
	}
	return med, sc.Err()
}

// op is one operation's three throughputs in MB/s (0: not measured).
type op struct {
	label               string
	oci, floor, peer    float64
	floorName, peerName string
}

func operations(r io.Reader, walls map[string]float64) ([]op, error) {
	var ops []op
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("chart spec line %d: want 5 tab-separated fields, got %d", line, len(f))
		}
		bytes, err := strconv.ParseFloat(f[1], 64)
		if err != nil || bytes <= 0 {
			return nil, fmt.Errorf("chart spec line %d: bad byte count %q", line, f[1])
		}
		w, ok := walls[f[2]]
		if !ok {
			continue
		}
		o := op{label: f[0], oci: bytes / 1e6 / w}
		if ids := idList(f[3]); len(ids) > 0 {
			var slowest float64
			for _, id := range ids {
				if w, ok := walls[id]; ok && w > slowest {
					slowest, o.floorName = w, id
				}
			}
			if slowest > 0 {
				o.floor = bytes / 1e6 / slowest
			}
		}
		for _, id := range idList(f[4]) {
			if w, ok := walls[id]; ok && (o.peer == 0 || bytes/1e6/w > o.peer) {
				o.peer, o.peerName = bytes/1e6/w, id
			}
		}
		ops = append(ops, o)
	}
	return ops, sc.Err()
}

func idList(s string) []string {
	if s == "-" || s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Layout of the picture, in pixels.
const (
	scale   = 2   // font scale
	glyphW  = 6   // advance of one glyph at scale 1
	glyphH  = 8   // line height at scale 1
	barH    = 14  // one bar
	groupGp = 14  // space between operations
	labelW  = 380 // left column
	plotW   = 620 // bars
	valueW  = 130 // room for the value after the longest bar
	margin  = 16
)

var (
	white  = color.RGBA{255, 255, 255, 255}
	black  = color.RGBA{20, 20, 20, 255}
	grid   = color.RGBA{225, 225, 225, 255}
	series = []struct {
		name string
		c    color.RGBA
	}{
		{"oci-pack", color.RGBA{31, 119, 180, 255}},
		{"floor", color.RGBA{150, 150, 150, 255}},
		{"best peer", color.RGBA{255, 127, 14, 255}},
	}
)

// draw renders the chart.
func draw(title string, ops []op) *image.RGBA {
	top := margin + 2*glyphH*scale + 10 // title and legend
	groupH := 3*barH + groupGp
	h := top + len(ops)*groupH + margin + glyphH*scale
	w := margin + labelW + plotW + valueW + margin
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Rect, white)
	text(img, margin, margin, title, black)
	x := margin
	for _, s := range series {
		fill(img, image.Rect(x, margin+glyphH*scale+2, x+12, margin+glyphH*scale+14), s.c)
		text(img, x+16, margin+glyphH*scale+2, s.name, black)
		x += 16 + (len(s.name)+3)*glyphW*scale
	}
	peak := 0.0
	for _, o := range ops {
		peak = max(peak, o.oci, o.floor, o.peer)
	}
	if peak == 0 {
		peak = 1
	}
	x0 := margin + labelW
	for i := 0; i <= 4; i++ { // grid at quarters of the peak
		gx := x0 + i*plotW/4
		fill(img, image.Rect(gx, top-4, gx+1, h-margin-glyphH*scale), grid)
		text(img, gx-2*glyphW*scale, h-margin-glyphH*scale+2, fmt.Sprintf("%.0f", peak*float64(i)/4), black)
	}
	for i, o := range ops {
		y := top + i*groupH
		text(img, margin, y+barH, clip(o.label, labelW/(glyphW*scale)), black)
		for j, v := range []float64{o.oci, o.floor, o.peer} {
			by := y + j*barH
			if v == 0 {
				continue
			}
			bw := int(float64(plotW) * v / peak)
			fill(img, image.Rect(x0, by+1, x0+max(bw, 1), by+barH-1), series[j].c)
			text(img, x0+bw+4, by+barH/2-glyphH*scale/2+1, fmt.Sprintf("%.0f", v), black)
		}
	}
	return img
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "."
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// text draws s with its top-left corner at (x, y).
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, ch := range s {
		g, ok := font[unicode.ToUpper(ch)]
		if !ok {
			g = font['?']
		}
		for row := 0; row < 7; row++ {
			for col := 0; col < 5; col++ {
				if g[row]&(1<<(4-col)) != 0 {
					fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
				}
			}
		}
		x += glyphW * scale
	}
}
