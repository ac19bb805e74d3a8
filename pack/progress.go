package pack

// Progress receives progress reports from long operations. Implementations
// must be safe for concurrent use; the CLI draws bars from them.
type Progress interface {
	// Track starts reporting on one item of total bytes (-1: unknown).
	Track(name string, total int64) Tracker
}

// Tracker reports on one item.
type Tracker interface {
	Add(n int64)
	// Done ends the item; err is nil on success.
	Done(err error)
}

type noProgress struct{}

func (noProgress) Track(string, int64) Tracker { return noTracker{} }

type noTracker struct{}

func (noTracker) Add(int64)  {}
func (noTracker) Done(error) {}

func progressOrNone(p Progress) Progress {
	if p == nil {
		return noProgress{}
	}
	return p
}
