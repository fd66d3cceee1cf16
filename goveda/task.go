package goveda

import (
	"context"
	"runtime/debug"
)

// runner is a task's body. run is called exactly once, on a worker goroutine, by the worker that
// took the task (owner pop, steal or injector pop). It must not panic: every runner recovers user
// panics itself and reports them as *PanicError through its own result slot.
type runner interface {
	run(w *worker)
}

// task is the unit the deques and the injector hold. It is embedded (as field t) in a job struct
// that also implements runner, so a job costs one allocation.
type task struct {
	r     runner // set before the task is published; never changed
	latch latch  // set by the executing worker after r.run returns
}

// newPanicError captures a recovered panic value with the current stack and counts it.
// Called from deferred recover handlers on any goroutine.
func newPanicError(rt *Runtime, p any) *PanicError {
	if rt != nil {
		rt.panicked.Add(1) // atomic add: a plain counter, no ordering role
	}
	return &PanicError{Value: p, Stack: debug.Stack()}
}

// callErr calls f and converts a panic into a *PanicError. Any goroutine.
func callErr(rt *Runtime, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(rt, p)
		}
	}()
	return f()
}

// callVal calls f and converts a panic into a *PanicError. Any goroutine.
func callVal[T any](rt *Runtime, f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(rt, p)
		}
	}()
	return f()
}

// callCtx calls f(ctx) and converts a panic into a *PanicError. Any goroutine.
func callCtx[T any](rt *Runtime, ctx context.Context, f func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(rt, p)
		}
	}()
	return f(ctx)
}
