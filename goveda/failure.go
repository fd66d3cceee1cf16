package goveda

import (
	"context"
	"sync/atomic"
)

// failure records the first error of a group of tasks (a ParallelFor, Reduce or Scope) and tells
// the rest of the group to stop starting new chunks. Any goroutine.
type failure struct {
	stop  atomic.Bool            // load by tasks before each chunk: once true, no new chunk starts
	first atomic.Pointer[errBox] // CAS nil -> box: the first error wins
}

type errBox struct{ err error }

// fail records err if it is the first, and stops the group. Any goroutine.
func (f *failure) fail(err error) {
	// CAS (seq-cst): exactly one error wins; stored before stop so a task that sees stop can
	// rely on err() being non-nil.
	f.first.CompareAndSwap(nil, &errBox{err})
	f.stop.Store(true) // store-release: pairs with the loads in the chunk loops
}

// stopped reports whether the group was stopped. Any goroutine; never spuriously true.
func (f *failure) stopped() bool { return f.stop.Load() }

// err returns the first error, or nil. Call after the group finished.
func (f *failure) err() error {
	if b := f.first.Load(); b != nil { // load-acquire: pairs with the CAS in fail
		return b.err
	}
	return nil
}

// watch makes ctx's cancellation fail the group with ctxError. The returned func detaches the
// watch and must be called when the group finished. Free when ctx can never be cancelled.
func (f *failure) watch(ctx context.Context) func() bool {
	if ctx.Done() == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() { f.fail(ctxError(context.Cause(ctx))) })
}
