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
	parent   context.Context // SubmitContext's ctx (Background for Submit)
	deadline time.Time
	enq      int64
	done     chan struct{} // closed when val and err are final
	unwatch  func() bool   // detaches the parent-cancellation watch, or nil

	mu       sync.Mutex
	state    futureState             // guarded by mu
	cancelFn context.CancelCauseFunc // cancels the running task's ctx; guarded by mu
	finished bool                    // guarded by mu
	cbs      []func(T, error)
	val      T     // final once done is closed
	err      error // final once done is closed
}

// futureState is where a submitted task is in its life.
type futureState uint8

const (
	futureQueued    futureState = iota // in the injector, not started
	futureRunning                      // a worker runs fn
	futureCancelled                    // cancelled before it started: fn never runs
	futureFinished                     // fn returned (or the task failed before it could start)
)

// Submit queues f to run on the pool at opts' priority and returns its Future at once. f gets a
// context carrying opts.Deadline (if any). A panic in f becomes a *PanicError. On a closed
// runtime, or with invalid options, the returned Future is already failed (ErrClosed /
// ErrInvalidArgument). Any goroutine; never blocks. Cost: about 3 allocations plus an injector
// push and, if the pool is parked, a wake-up.
func Submit[T any](rt *Runtime, opts TaskOptions, f func(ctx context.Context) (T, error)) *Future[T] {
	return SubmitContext(context.Background(), rt, opts, f)
}

// SubmitContext is Submit with a context: f's ctx derives from ctx (plus opts.Deadline), and is
// also cancelled by Future.Cancel. If ctx is done before the task started, the task never starts
// and its Future fails with an error wrapping ErrCancelled (and ctx's cause). Any goroutine;
// never blocks. Cost: Submit's plus one context per task (and a watch when ctx can be cancelled).
func SubmitContext[T any](ctx context.Context, rt *Runtime, opts TaskOptions, f func(ctx context.Context) (T, error)) *Future[T] {
	if ctx == nil {
		ctx = context.Background()
	}
	fu := &Future[T]{rt: rt, fn: f, parent: ctx, deadline: opts.Deadline, done: make(chan struct{})}
	fu.t.Job = (*futureJob[T])(fu) // Run stays off Future's public method set
	var zero T
	if rt == nil {
		fu.complete(zero, nilRuntime("Submit"))
		return fu
	}
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
	if err := ctx.Err(); err != nil {
		fu.mu.Lock()
		fu.state = futureCancelled
		fu.mu.Unlock()
		fu.complete(zero, ctxErr(ctx))
		rt.exit()
		return fu
	}
	if ctx.Done() != nil {
		fu.unwatch = context.AfterFunc(ctx, func() { fu.cancelQueued(ctxErr(ctx)) })
	}
	fu.enq = rt.pool.Now()
	rt.pool.Inject(&fu.t, opts.Priority.level(), dl)
	return fu
}

// Cancel cancels the task. A task that has not started never starts: its Future fails at once
// with an error wrapping ErrCancelled, and Cancel returns true. A running task sees its ctx
// cancelled (cause ErrCancelled) and its Future gets whatever it returns; Cancel returns false.
// Cancelling a finished task is a no-op (false); cancelling twice is fine. Any goroutine; never
// blocks (callbacks registered with Then run on the calling goroutine when Cancel completes the
// Future).
func (fu *Future[T]) Cancel() bool {
	return fu.cancelQueued(fmt.Errorf("%w: Future.Cancel", ErrCancelled))
}

// cancelQueued implements Cancel with the error a not-started task fails with. Any goroutine.
func (fu *Future[T]) cancelQueued(err error) bool {
	fu.mu.Lock()
	switch fu.state {
	case futureQueued:
		fu.state = futureCancelled
		fu.mu.Unlock()
		var zero T
		fu.complete(zero, err) // the queued job still runs later, sees the state and skips fn
		return true
	case futureRunning:
		cancel := fu.cancelFn
		fu.mu.Unlock()
		if cancel != nil {
			cancel(err)
		}
		return false
	default:
		fu.mu.Unlock()
		return false
	}
}

// futureJob is Future's view as a sched.Runner: the same memory, another method set.
type futureJob[T any] Future[T]

func (j *futureJob[T]) Run(w *sched.Worker) { (*Future[T])(j).run(w) }

// TraceName names the job's slice in a trace.
func (j *futureJob[T]) TraceName() string { return "submit" }

func (fu *Future[T]) run(w *sched.Worker) {
	defer fu.rt.exit()
	w.RecordWait(fu.enq)
	fu.mu.Lock()
	if fu.state != futureQueued { // cancelled before it started: never run fn
		fu.mu.Unlock()
		return
	}
	fu.state = futureRunning
	ctx, cancel := context.WithCancelCause(fu.parent)
	fu.cancelFn = cancel
	fu.mu.Unlock()
	if fu.unwatch != nil {
		fu.unwatch() // from now on the task's ctx carries the parent's cancellation
	}
	var v T
	var err error
	if fu.deadline.IsZero() {
		v, err = callCtx(fu.rt.pool, ctx, fu.fn)
	} else if !time.Now().Before(fu.deadline) {
		err = fmt.Errorf("%w: the task deadline (%s) passed %v before it started", ErrTimeout,
			fu.deadline.Round(0).Format(time.RFC3339Nano), time.Since(fu.deadline).Round(time.Microsecond))
	} else {
		dctx, dcancel := context.WithDeadline(ctx, fu.deadline)
		v, err = callCtx(fu.rt.pool, dctx, fu.fn)
		dcancel()
	}
	cancel(nil)
	fu.mu.Lock()
	fu.state = futureFinished
	fu.cancelFn = nil
	fu.mu.Unlock()
	fu.complete(v, err)
	w.RecordLatency(fu.enq)
}

// complete publishes the result and runs the callbacks. Called once.
func (fu *Future[T]) complete(v T, err error) {
	fu.mu.Lock()
	if fu.state == futureQueued { // failed before it was queued (bad options, closed runtime)
		fu.state = futureFinished
	}
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
			return zero, ctxErr(ctx)
		}
	}
	var err error
	fu.rt.pool.WaitOutside(func() { // an inline caller lends its slot meanwhile
		select {
		case <-fu.done:
		case <-ctx.Done():
			err = ctxErr(ctx)
		}
	})
	select {
	case <-fu.done:
		return fu.val, fu.err
	default:
		return zero, err
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
