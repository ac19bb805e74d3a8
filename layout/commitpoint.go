package layout

import (
	"context"
	"sync"
)

// A change's commit point is the moment it becomes visible and complete:
// index.json renamed (UpdateIndex), an export's files renamed into place,
// an extraction's files moved into its directory. A command interrupted
// after that point has done what it was asked; one interrupted before it
// has not. The library marks the point on the context it was given, so a
// caller (the CLI) can tell the user which of the two happened
// (RELIABILITY I16).

type commitKey struct{}

type commitWatch struct {
	mu *sync.Mutex
	fn func()
}

// WithCommitNotify returns a context whose commit point calls fn. The
// step that makes a change visible and the call of fn run together under
// mu (see Commit): a caller that holds mu sees the state before that step
// or the state after it with fn called — never the change without fn.
func WithCommitNotify(ctx context.Context, mu *sync.Mutex, fn func()) context.Context {
	return context.WithValue(ctx, commitKey{}, &commitWatch{mu: mu, fn: fn})
}

// Commit runs publish, the one step that makes a change visible (a
// rename), and if it succeeds marks ctx's commit point, as one step under
// the watcher's lock (WithCommitNotify). Without a watcher it just runs
// publish.
func Commit(ctx context.Context, publish func() error) error {
	w, ok := ctx.Value(commitKey{}).(*commitWatch)
	if !ok {
		return publish()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := publish(); err != nil {
		return err
	}
	w.fn()
	return nil
}

// NotifyCommitted marks ctx's commit point after a change made visible
// by several steps (an export's renames) is complete.
func NotifyCommitted(ctx context.Context) {
	_ = Commit(ctx, func() error { return nil })
}
