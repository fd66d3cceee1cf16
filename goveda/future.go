package goveda

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// TaskOptions are the scheduling options of a submitted task.
type TaskOptions struct {
	// Priority orders the task in the injector (the zero value is PriorityNormal).
	Priority Priority
	// Deadline, if non-zero, orders the task earliest-deadline-first within its priority, and
	// becomes the deadline of the ctx passed to the task. A task whose deadline passed before it
	// started does not run: its Future fails with an error wrapping ErrTimeout.
	Deadline time.Time
}

// Future is the pending result of Submit. All methods may be called from any goroutine, any
// number of times.
type Future[T any] struct {
	t        sched.Task
	rt       *Runtime
	fn       func(context.Context) (T, error)
	deadline time.Time
	enq      int64
	done     chan struct{} // closed when val and err are final

	mu       sync.Mutex
	finished bool // guarded by mu
	cbs      []func(T, error)
	val      T     // final once done is closed
	err      error // final once done is closed
}

// Submit queues f to run on the pool at opts' priority and returns its Future at once. f gets a
// context carrying opts.Deadline (if any). A panic in f becomes a *PanicError. On a closed
// runtime, or with invalid options, the returned Future is already failed (ErrClosed /
// ErrInvalidArgument). Any goroutine; never blocks. Cost: about 3 allocations plus an injector
// push and, if the pool is parked, a wake-up.
func Submit[T any](rt *Runtime, opts TaskOptions, f func(ctx context.Context) (T, error)) *Future[T] {
	fu := &Future[T]{rt: rt, fn: f, deadline: opts.Deadline, done: make(chan struct{})}
	fu.t.Job = (*futureJob[T])(fu) // Run stays off Future's public method set
	var zero T
	if f == nil {
		fu.complete(zero, invalidf("Submit: f is nil"))
		return fu
	}
	if !opts.Priority.valid() {
		fu.complete(zero, invalidf("Submit: priority %d is not a Priority constant", int(opts.Priority)))
		return fu
	}
	if rt.current() != nil {
		// From a task the runtime is in flight (the task itself), so Close cannot finish
		// before this increment: admit without the closed check.
		rt.pool.EnterNested()
	} else if err := rt.enter(); err != nil {
		fu.complete(zero, err)
		return fu
	}
	var dl int64
	if !opts.Deadline.IsZero() {
		dl = opts.Deadline.UnixNano()
	}
	fu.enq = rt.pool.Now()
	rt.pool.Inject(&fu.t, opts.Priority.level(), dl)
	return fu
}

// futureJob is Future's view as a sched.Runner: the same memory, another method set.
type futureJob[T any] Future[T]

func (j *futureJob[T]) Run(w *sched.Worker) { (*Future[T])(j).run(w) }

func (fu *Future[T]) run(w *sched.Worker) {
	defer fu.rt.exit()
	var v T
	var err error
	if fu.deadline.IsZero() {
		v, err = callCtx(fu.rt.pool, context.Background(), fu.fn)
	} else if !time.Now().Before(fu.deadline) {
		err = fmt.Errorf("%w: the task deadline (%s) passed %v before it started", ErrTimeout,
			fu.deadline.Round(0).Format(time.RFC3339Nano), time.Since(fu.deadline).Round(time.Microsecond))
	} else {
		ctx, cancel := context.WithDeadline(context.Background(), fu.deadline)
		v, err = callCtx(fu.rt.pool, ctx, fu.fn)
		cancel()
	}
	fu.complete(v, err)
	w.RecordLatency(fu.enq)
}

// complete publishes the result and runs the callbacks. Called once.
func (fu *Future[T]) complete(v T, err error) {
	fu.mu.Lock()
	fu.val, fu.err = v, err
	fu.finished = true
	cbs := fu.cbs
	fu.cbs = nil
	close(fu.done)
	fu.mu.Unlock()
	fu.t.Done.Set() // wakes a worker helping in Wait
	for _, cb := range cbs {
		fu.runCallback(cb)
	}
}

func (fu *Future[T]) runCallback(cb func(T, error)) {
	_ = callErr(fu.rt.pool, func() error { cb(fu.val, fu.err); return nil })
}

// Wait blocks until the task finished and returns its result, or until ctx is done (then it
// returns an error wrapping ErrCancelled, or ErrTimeout for ctx's deadline; the task keeps
// running). Called from a task of the same runtime, the worker helps run other tasks while it
// waits, so waiting on futures from tasks cannot deadlock the pool. Any goroutine.
func (fu *Future[T]) Wait(ctx context.Context) (T, error) {
	select {
	case <-fu.done:
		return fu.val, fu.err
	default:
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var zero T
	if w := fu.rt.current(); w != nil {
		w.WaitUntil(&fu.t.Done, ctx)
		select {
		case <-fu.done:
			return fu.val, fu.err
		default:
			return zero, ctxError(context.Cause(ctx))
		}
	}
	select {
	case <-fu.done:
		return fu.val, fu.err
	case <-ctx.Done():
		return zero, ctxError(context.Cause(ctx))
	}
}

// Done returns a channel that is closed when the task finished. Any goroutine.
func (fu *Future[T]) Done() <-chan struct{} { return fu.done }

// IsDone reports whether the task finished. Any goroutine; never blocks.
func (fu *Future[T]) IsDone() bool {
	select {
	case <-fu.done:
		return true
	default:
		return false
	}
}

// Then registers cb to run exactly once with the result: at once on the calling goroutine if
// the task already finished, else on the worker that finishes it, right after it. A panic in cb
// is recovered and counted, not reported. cb should be short; it delays that worker. Any goroutine.
func (fu *Future[T]) Then(cb func(T, error)) {
	if cb == nil {
		return
	}
	fu.mu.Lock()
	if fu.finished {
		fu.mu.Unlock()
		fu.runCallback(cb)
		return
	}
	fu.cbs = append(fu.cbs, cb)
	fu.mu.Unlock()
}
