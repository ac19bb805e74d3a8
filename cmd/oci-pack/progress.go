package main

import (
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress returns the command's progress callback (the layout.Progress
// that pack, layout/archive, pack/extract, copy and verify take) and a
// wait to call after the work, before printing results:
//
//   - --quiet or --no-progress: nil, nothing shown;
//   - stderr a terminal: an overall bar (bytes done of the total, rate,
//     ETA) under one bar per item in flight, each removed as it ends;
//   - otherwise: one line per finished item.
func (e *env) progress() (layout.Progress, func()) {
	if e.g.noProgress || e.g.quiet {
		return nil, func() {}
	}
	if !stderrIsTerminal(e.stderr) {
		lp := &lineProgress{w: e.stderr}
		return lp.track, func() {}
	}
	p := mpb.NewWithContext(e.ctx, mpb.WithOutput(e.stderr), mpb.WithWidth(40))
	b := &barProgress{p: p}
	return b.track, func() {
		b.finish()
		p.Wait()
	}
}

// shortName bounds an item name for a terminal line.
func shortName(name string, n int) string {
	name = safe(name)
	if len(name) > n {
		return "…" + name[len(name)-(n-1):]
	}
	return name
}

// lineProgress prints one line per item that finished well (a failure is
// the command's error to report).
type lineProgress struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineProgress) track(name string, total int64) (func(int64), func(error)) {
	if name == layout.ProgressTotal {
		return func(int64) {}, func(error) {}
	}
	var n atomic.Int64
	return func(k int64) { n.Add(k) }, func(err error) {
		if err != nil {
			return
		}
		l.mu.Lock()
		fmt.Fprintf(l.w, "done %s (%s)\n", shortName(name, 200), humanBytes(n.Load()))
		l.mu.Unlock()
	}
}

// barProgress draws the overall bar (last) and a bar per item in flight.
// Bars are made with total 0 and given their total after, so that only
// an explicit SetTotal(-1, true) completes them (mpb completes a bar made
// with a total as soon as its count reaches it, and a count that falls
// short would leave Wait waiting).
type barProgress struct {
	p       *mpb.Progress
	mu      sync.Mutex
	overall *mpb.Bar
	total   int64 // announced total; the sum of item totals if none was
	fixed   bool  // a total was announced
}

func (b *barProgress) track(name string, total int64) (func(int64), func(error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if name == layout.ProgressTotal {
		b.fixed = total >= 0
		b.total = max(total, 0)
		b.overallBar()
		return func(int64) {}, func(error) {}
	}
	ov := b.overallBar()
	if !b.fixed {
		b.total += max(total, 0)
		ov.SetTotal(b.total, false)
	}
	if b.fixed && total == b.total {
		// The only item: the overall bar says it all.
		return func(n int64) { ov.IncrInt64(n) }, func(error) {}
	}
	bar := b.p.AddBar(0,
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(shortName(name, 32), decor.WC{C: decor.DindentRight | decor.DextraSpace, W: 33})),
		mpb.AppendDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
	)
	bar.SetTotal(max(total, 0), false)
	t := &barTracker{bar: bar, overall: ov, total: total}
	return t.add, t.done
}

// finish completes the overall bar, wherever its count got to.
func (b *barProgress) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overall != nil {
		b.overall.SetTotal(-1, true)
	}
}

// overallBar returns the overall bar, made on first use; b.mu is held.
func (b *barProgress) overallBar() *mpb.Bar {
	if b.overall == nil {
		b.overall = b.p.AddBar(0,
			mpb.BarPriority(math.MaxInt),
			mpb.PrependDecorators(decor.Name("total", decor.WC{C: decor.DindentRight | decor.DextraSpace, W: 33})),
			mpb.AppendDecorators(
				decor.Counters(decor.SizeB1024(0), "% .1f / % .1f"),
				decor.Name("  "),
				decor.AverageSpeed(decor.SizeB1024(0), "% .1f"),
				decor.Name("  ETA "),
				decor.AverageETA(decor.ET_STYLE_GO),
			),
		)
	}
	b.overall.SetTotal(b.total, false)
	return b.overall
}

type barTracker struct {
	mu           sync.Mutex
	bar, overall *mpb.Bar
	total, n     int64
}

func (t *barTracker) add(n int64) {
	t.mu.Lock()
	t.n += n
	if t.n > t.total {
		t.bar.SetTotal(t.n, false)
	}
	t.mu.Unlock()
	t.bar.IncrInt64(n)
	t.overall.IncrInt64(n)
}

func (t *barTracker) done(err error) {
	if err != nil {
		t.bar.Abort(true)
		return
	}
	t.bar.SetTotal(-1, true)
}
