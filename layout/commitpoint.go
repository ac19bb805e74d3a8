package layout

import "context"

// A change's commit point is the moment it became complete and durable:
// index.json renamed and its directory fsynced (UpdateIndex), an export's
// files renamed into place, an extraction's files moved into its
// directory. A command interrupted after that point has done what it was
// asked; one interrupted before it has changed nothing. The library marks
// the point on the context it was given, so a caller (the CLI) can tell
// the user which of the two happened (RELIABILITY I16).

type commitKey struct{}

// WithCommitNotify returns a context whose NotifyCommitted calls fn. fn
// may run on any goroutine and more than once.
func WithCommitNotify(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, commitKey{}, fn)
}

// NotifyCommitted marks ctx's commit point: the change is complete and
// durable. Without WithCommitNotify it does nothing.
func NotifyCommitted(ctx context.Context) {
	if fn, ok := ctx.Value(commitKey{}).(func()); ok {
		fn()
	}
}
