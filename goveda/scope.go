package goveda

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// Scope is a group of spawned tasks that Runtime.Scope waits for. Spawn and SpawnPriority may
// be called from any goroutine while the Scope call has not returned: from its function, from
// spawned tasks, or from other goroutines that were handed the *Scope.
type Scope struct {
	rt      *Runtime
	f       sched.Failure
	pending atomic.Int64  // f's body plus unfinished children; seq-cst add/sub, see done
	l       sched.Latch   // set when pending reaches 0 (worker waiters)
	ch      chan struct{} // closed when pending reaches 0 (outside waiter), or nil

	parent context.Context // the Scope call's ctx
	dl     deadline        // parent's deadline, checked before each child starts (parallel.go)
	ctxMu  sync.Mutex
	ctx    context.Context         // made by the first Context call; guarded by ctxMu
	cancel context.CancelCauseFunc // cancels ctx; guarded by ctxMu
}

// fail records err as the scope's result (if first), stops children that have not started and
// cancels the children's context. Any goroutine.
func (s *Scope) fail(err error) {
	s.f.Fail(err)
	s.ctxMu.Lock()
	cancel := s.cancel
	s.ctxMu.Unlock()
	if cancel != nil {
		cancel(err)
	}
}

// Context returns the scope's context: it is done once the Scope call's ctx is done or once a
// child (or the scope's function) failed, with that error as its cause, so long-running children
// can stop early. Made on first use (one context per scope). Any goroutine, while the Scope call
// has not returned.
func (s *Scope) Context() context.Context {
	s.ctxMu.Lock()
	defer s.ctxMu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancelCause(s.parent)
		// fail stores the stop flag before it reads cancel under ctxMu, so a failure before this
		// point is seen here, and one after it sees cancel.
		if s.f.Stopped() {
			s.cancel(s.f.Err())
		}
	}
	return s.ctx
}

// SpawnCtx is Spawn for a child that takes the scope's Context (see Context).
func (s *Scope) SpawnCtx(fn func(ctx context.Context) error) {
	if fn == nil {
		panic("veda: SpawnCtx: nil func")
	}
	ctx := s.Context()
	s.spawn(PriorityNormal, func() error { return fn(ctx) })
}

type scopeJob struct {
	t  sched.Task
	s  *Scope
	fn func() error
}

// TraceName names the job's slice in a trace.
func (j *scopeJob) TraceName() string { return "spawn" }

// stopped reports whether children that have not started are skipped: the scope failed or was
// cancelled, or its deadline passed (which stops it as the context's timer will, and cancels
// the children's context). Any goroutine.
func (s *Scope) stopped() bool {
	if s.f.Stopped() {
		return true
	}
	if !s.dl.expired(&s.f) {
		return false
	}
	s.ctxMu.Lock()
	cancel := s.cancel
	s.ctxMu.Unlock()
	if cancel != nil {
		cancel(context.DeadlineExceeded)
	}
	return true
}

func (j *scopeJob) Run(w *sched.Worker) {
	s := j.s
	if !s.stopped() {
		if err := callErr(s.rt.pool, j.fn); err != nil {
			s.fail(err)
		}
	}
	s.done()
}

// done ends one unit of pending work. Any goroutine.
func (s *Scope) done() {
	// add (seq-cst, acq-rel): the unit that brings pending to 0 saw every other unit's writes
	// (each decremented before it), and publishes them through the latch/channel.
	if s.pending.Add(-1) == 0 {
		if s.ch != nil {
			close(s.ch)
		}
		s.l.Set()
	}
}

// Spawn starts fn as a child task of the scope, at PriorityNormal. The Scope call returns only
// after fn finished; fn's error (the first in the scope) is Scope's result, and after an error
// or cancellation children that have not started are skipped. Called from a worker, the child
// goes on that worker's deque (about 50 ns); otherwise it goes through the injector.
// Panics if called after the Scope call returned, or with a nil fn.
func (s *Scope) Spawn(fn func() error) { s.spawn(PriorityNormal, fn) }

// SpawnPriority is Spawn with a priority: a non-Normal child goes through the injector, which
// orders it against other submitted work by priority (with aging).
func (s *Scope) SpawnPriority(p Priority, fn func() error) {
	if !p.valid() {
		panic("veda: SpawnPriority: invalid priority")
	}
	s.spawn(p, fn)
}

func (s *Scope) spawn(p Priority, fn func() error) {
	if fn == nil {
		panic("veda: Spawn: nil func")
	}
	// add (seq-cst): registers the child before it can run; 1 means the scope already ended.
	if s.pending.Add(1) == 1 {
		s.pending.Add(-1)
		panic("veda: Spawn called after its Scope returned")
	}
	j := &scopeJob{s: s, fn: fn}
	j.t.Job = j
	if p == PriorityNormal {
		if w := s.rt.current(); w != nil {
			w.Push(&j.t)
			return
		}
	}
	s.rt.pool.Inject(&j.t, p.level(), 0)
}

// Scope calls f with a new *Scope, then blocks until f and every task spawned in the scope
// finished. It returns the first error (a child's error as-is, a panic as *PanicError, ctx
// cancellation wrapping ErrCancelled, or ErrTimeout for its deadline); after the first error no new child starts. A closed
// runtime gives ErrClosed (outside callers only).
//
// Any goroutine. f runs on the calling goroutine. Called from a task, the worker helps run the
// children while it waits; called from outside, the caller blocks and workers run them.
func (rt *Runtime) Scope(ctx context.Context, f func(*Scope)) error {
	if rt == nil {
		return nilRuntime("Scope")
	}
	if f == nil {
		return invalidf("Scope: f is nil")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(ctx)
	}
	w := rt.current()
	s := &Scope{rt: rt, parent: ctx, dl: deadlineOf(ctx)}
	if w == nil {
		// Held: f runs on this goroutine, and what it starts (a ParallelFor, another Scope) is
		// part of this call, admitted even if Close comes meanwhile.
		if err := rt.enterHeld(); err != nil {
			return err
		}
		defer rt.pool.ExitHeld()
		s.ch = make(chan struct{})
	}
	s.pending.Store(1) // f's own unit
	unwatch := s.f.Watch(ctx, func(error) error { return ctxErr(ctx) })
	defer unwatch()
	if err := callErr(rt.pool, func() error { f(s); return nil }); err != nil {
		s.fail(err)
	}
	s.done()
	if w != nil {
		w.WaitUntil(&s.l, nil)
	} else {
		rt.pool.WaitOutside(func() { <-s.ch }) // an inline caller lends its slot meanwhile
	}
	s.ctxMu.Lock()
	if s.cancel != nil {
		s.cancel(nil) // release the context's resources
	}
	s.ctxMu.Unlock()
	return loopErr(ctx, s.f.Err())
}
