package main

import (
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// barProgress draws one mpb bar per tracked item on stderr.
type barProgress struct {
	p *mpb.Progress
}

// progress returns the command's progress callback (it fits the Progress
// type of pack, layout/archive and pack/extract): bars on a terminal,
// nil otherwise (or with --no-progress / --quiet). Call the returned
// wait after the work, before printing results.
func (e *env) progress() (func(string, int64) (func(int64), func(error)), func()) {
	if e.g.noProgress || e.g.quiet || !stderrIsTerminal(e.stderr) {
		return nil, func() {}
	}
	p := mpb.NewWithContext(e.ctx, mpb.WithOutput(e.stderr), mpb.WithWidth(40))
	return (&barProgress{p: p}).track, p.Wait
}

func (b *barProgress) track(name string, total int64) (func(int64), func(error)) {
	if len(name) > 32 {
		name = "…" + name[len(name)-31:]
	}
	bar := b.p.AddBar(max(total, 0),
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace, W: 33})),
		mpb.AppendDecorators(
			decor.Counters(decor.SizeB1024(0), "% .1f / % .1f"),
			decor.Name(" "),
			decor.AverageSpeed(decor.SizeB1024(0), "% .1f"),
		),
	)
	t := &barTracker{bar: bar, total: total}
	return t.Add, t.Done
}

type barTracker struct {
	bar   *mpb.Bar
	total int64
	n     int64
}

func (t *barTracker) Add(n int64) {
	t.n += n
	if t.n > t.total {
		t.bar.SetTotal(t.n, false)
	}
	t.bar.IncrInt64(n)
}

func (t *barTracker) Done(err error) {
	if err != nil {
		t.bar.Abort(false)
		return
	}
	t.bar.SetTotal(t.n, true)
}
