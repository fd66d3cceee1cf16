package sched

import (
	"context"
	"sync/atomic"
)

// Failure records the first error of a group of tasks (a ParallelFor, Reduce or Scope) and tells
// the rest of the group to stop starting new chunks. The zero value is ready. Any goroutine.
type Failure struct {
	stop  atomic.Bool            // load by tasks before each chunk: once true, no new chunk starts
	first atomic.Pointer[errBox] // CAS nil -> box: the first error wins
}

type errBox struct{ err error }

// Fail records err if it is the first, and stops the group. Any goroutine.
func (f *Failure) Fail(err error) {
	// CAS (seq-cst): exactly one error wins; stored before stop so a task that sees stop can
	// rely on Err() being non-nil.
	f.first.CompareAndSwap(nil, &errBox{err})
	f.stop.Store(true) // store-release: pairs with the loads in Stopped
}

// Stopped reports whether the group was stopped. Any goroutine; never spuriously true.
func (f *Failure) Stopped() bool { return f.stop.Load() } // load-acquire: pairs with Fail's store

// Err returns the first error, or nil. Call after the group finished.
func (f *Failure) Err() error {
	if b := f.first.Load(); b != nil { // load-acquire: pairs with the CAS in Fail
		return b.err
	}
	return nil
}

// Watch makes ctx's cancellation fail the group with conv(context.Cause(ctx)). The returned func
// detaches the watch and must be called when the group finished. Free when ctx can never be
// cancelled. Any goroutine.
func (f *Failure) Watch(ctx context.Context, conv func(cause error) error) func() bool {
	if ctx.Done() == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() { f.Fail(conv(context.Cause(ctx))) })
}
