package layout

// Progress reports on long work, item by item: it is called as an item (a
// file, a blob, an archive) starts, with its name and size in bytes (-1
// when unknown), and returns the item's reporter: add(n) as n more bytes
// are done, done(err) once when the item ends (err nil on success). It is
// a plain function type so that any package — pack, layout/archive,
// pack/extract, a CLI — can take or provide one without importing the
// others. Implementations must be safe for concurrent use. A nil Progress
// reports nothing.
type Progress func(item string, total int64) (add func(n int64), done func(err error))

// ProgressTotal is the item name with which a producer announces, once
// and before its items start, the bytes all its items will add up to (-1:
// unknown), so a consumer can draw an overall bar with a rate and an ETA.
// That call's add and done are never used. A consumer that does not know
// it may ignore any item of this name.
const ProgressTotal = "\x00total"

// Total announces the overall total (ProgressTotal); a no-op on nil.
func (p Progress) Total(n int64) {
	if p != nil {
		p(ProgressTotal, n)
	}
}

// ProgressItem is one item's reporter, safe to call on a nil Progress.
type ProgressItem struct {
	Add  func(n int64)
	Done func(err error)
}

// Start begins reporting on one item.
func (p Progress) Start(item string, total int64) ProgressItem {
	if p == nil {
		return ProgressItem{Add: func(int64) {}, Done: func(error) {}}
	}
	add, done := p(item, total)
	return ProgressItem{Add: add, Done: done}
}
