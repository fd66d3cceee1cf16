package goveda

import (
	"context"
	"errors"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// Automatic grain (grain == 0). Adaptive splitting needs no grain: it cuts only while thieves
// take work, so the smallest chunk is one index. The deterministic policy cannot look at thieves,
// so its automatic grain depends on the range alone: about detLeaves leaves.
const detLeaves = 1024

// autoGrain returns the grain for a range of n indices.
func (rt *Runtime) autoGrain(n, grain int) int {
	if grain > 0 {
		return grain
	}
	if rt.cfg.Policy == PolicyDeterministic {
		g := n / detLeaves
		if g < 1 {
			g = 1
		}
		return g
	}
	return 1
}

// splitter decides whether to cut a range again (Rayon's adaptive splitter). Each task starts
// with a budget of splits; a task that was stolen (runs on another worker than the one that
// pushed it) refills the budget to the worker count, because a steal means there are idle
// thieves; a task that was not stolen halves it. In deterministic mode the budget is ignored and
// every range of at least 2*grain is cut, so the split tree depends only on (range, grain).
type splitter struct {
	splits int
	grain  int
	det    bool
}

// trySplit reports whether a range of n indices should be cut, updating the budget.
func (s *splitter) trySplit(n int, migrated bool, workers int) bool {
	if n < 2*s.grain || n < 2 {
		return false
	}
	if s.det {
		return true
	}
	if migrated {
		s.splits = max(s.splits/2, workers)
		return true
	}
	if s.splits > 0 {
		s.splits /= 2
		return true
	}
	return false
}

// forState is one ParallelFor call, shared by all its chunks.
type forState struct {
	rt     *Runtime
	body   func(lo, hi int) error
	f      sched.Failure
	pieces bool                    // run leaves in time-bounded pieces (leafPieces)
	cancel context.CancelCauseFunc // ParallelForCtx: cancels the bodies' ctx on the first error
	dl     deadline
}

// deadline is a loop's context deadline, checked on the loop's own clock before each chunk and
// piece. The context's timer alone is not enough: it fires from Go's scheduler, and when every P
// runs a worker whose body never blocks (CPU-bound Go code), the timer and the watch waited for
// Go's 10 ms preemption (measured: a 50 ms timeout returned after 60-64 ms, 83 ms once; with this
// check, at the first piece boundary after it).
type deadline struct {
	at  time.Time // zero: none
	set bool
}

func deadlineOf(ctx context.Context) deadline {
	at, ok := ctx.Deadline()
	return deadline{at: at, set: ok}
}

// passed reports whether the deadline has passed. Any goroutine; one clock read when set.
func (d *deadline) passed() bool { return d.set && !time.Now().Before(d.at) }

// expired reports whether the deadline has passed, and then fails f with errPastDeadline (an
// earlier error still wins). Any goroutine.
func (d *deadline) expired(f *sched.Failure) bool {
	if !d.passed() {
		return false
	}
	f.Fail(errPastDeadline)
	return true
}

// errPastDeadline is the failure recorded when a loop saw its deadline pass before the context
// did; loopErr turns it into the context's own error.
var errPastDeadline = errors.New("veda: internal: the deadline passed")

// loopErr is a loop's result error: err, or for errPastDeadline the timeout error that the
// context's watch would have recorded (its cause once the context is done, else
// context.DeadlineExceeded). Any goroutine.
func loopErr(ctx context.Context, err error) error {
	if err != errPastDeadline {
		return err
	}
	if ctx.Err() == nil {
		// The deadline passed on the loop's clock before the context's timer ran. The timer is
		// due, and the workers that kept its P busy have stopped: wait for it (bounded, in case
		// a Context reports a deadline it does not keep), so that the error carries the
		// context's own cause (context.WithDeadlineCause), as the watch's would.
		t := time.NewTimer(deadlineGrace)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	if ctx.Err() != nil {
		return ctxErr(ctx)
	}
	return ctxError(context.DeadlineExceeded)
}

// deadlineGrace bounds loopErr's wait for a context whose deadline passed.
const deadlineGrace = 20 * time.Millisecond

// stopped reports whether no new chunk or piece may start: the loop failed or was cancelled, or
// its deadline passed (which stops it, and cancels the bodies' context). Any worker, or an inline
// caller.
func (st *forState) stopped() bool {
	if st.f.Stopped() {
		return true
	}
	if !st.dl.expired(&st.f) {
		return false
	}
	if st.cancel != nil {
		st.cancel(context.DeadlineExceeded)
	}
	return true
}

// fail records err as the loop's result (if first) and cancels the bodies' context. Any worker.
func (st *forState) fail(err error) {
	st.f.Fail(err)
	if st.cancel != nil {
		st.cancel(err)
	}
}

// forJob is the right half of a split, pushed for thieves.
type forJob struct {
	t      sched.Task
	st     *forState
	lo, hi int
	sp     splitter
	owner  *sched.Worker // the worker that pushed it: running elsewhere means it was stolen
}

func (j *forJob) Run(w *sched.Worker) { j.st.split(w, j.lo, j.hi, j.sp, w != j.owner) }

// TraceName names the job's slice in a trace.
func (j *forJob) TraceName() string { return "parallel_for" }

// split runs [lo, hi) on w, cutting it in halves while the splitter allows. Worker only.
func (st *forState) split(w *sched.Worker, lo, hi int, sp splitter, migrated bool) {
	if st.stopped() {
		return
	}
	if n := hi - lo; sp.trySplit(n, migrated, st.rt.pool.Workers()) {
		mid := lo + n/2
		j := &forJob{st: st, lo: mid, hi: hi, sp: sp, owner: w}
		j.t.Job = j
		w.Push(&j.t)
		st.split(w, lo, mid, sp, false)
		w.JoinTask(&j.t)
		return
	}
	st.leaf(w, lo, hi, sp)
}

// ParallelFor calls body on disjoint chunks [lo, hi) that together cover [begin, end) exactly
// once, in parallel, and blocks until all chunks finished. grain is the smallest chunk a body
// sees (except when the whole range is smaller); 0 chooses automatically. Chunks are cut lazily,
// only while other workers are idle, so a loop costs O(workers * log) tasks, not one per grain.
//
// Errors: end < begin, grain < 0 or a nil body wrap ErrInvalidArgument; a closed runtime gives
// ErrClosed. The first non-nil body error is returned as-is and no new chunk starts after it; a
// panic becomes a *PanicError; ctx cancellation returns an error wrapping ErrCancelled (ErrTimeout
// when ctx's deadline passed) and the context's cause. A deadline is also checked on the loop's
// own clock before each chunk and piece, so the loop stops at it even while CPU-bound bodies keep
// Go's timers from running. begin == end returns nil without calling body.
//
// Any goroutine. Called from a task, the calling worker runs chunks and helps; called from
// outside the pool, the caller blocks while workers run every chunk. Cost: about 1 us from a
// worker for a small range, plus a wake-up from outside a parked pool.
func (rt *Runtime) ParallelFor(ctx context.Context, begin, end, grain int, body func(lo, hi int) error) error {
	return rt.parallelFor(ctx, nil, begin, end, grain, body, nil)
}

// ParallelForCtx is ParallelFor whose body also gets a context: it is done once ctx is done or
// once any body returned an error (its cause is that error), so a long chunk can stop early.
// Errors, cost and callers as ParallelFor (plus one context per call).
func (rt *Runtime) ParallelForCtx(ctx context.Context, begin, end, grain int, body func(ctx context.Context, lo, hi int) error) error {
	if body == nil {
		return invalidf("ParallelForCtx: body is nil")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	return rt.parallelFor(lctx, ctx, begin, end, grain, func(lo, hi int) error { return body(lctx, lo, hi) }, cancel)
}

// parallelFor is ParallelFor and ParallelForCtx. ctx is the loop's context; outer, if non-nil,
// is the caller's context that ctx was derived from (ParallelForCtx: cancel cancels ctx alone),
// whose cause a timeout reports.
func (rt *Runtime) parallelFor(ctx, outer context.Context, begin, end, grain int, body func(lo, hi int) error, cancel context.CancelCauseFunc) error {
	if rt == nil {
		return nilRuntime("ParallelFor")
	}
	if end < begin {
		return invalidf("ParallelFor: end (%d) < begin (%d)", end, begin)
	}
	if grain < 0 {
		return invalidf("ParallelFor: grain is %d, must be >= 0", grain)
	}
	if body == nil {
		return invalidf("ParallelFor: body is nil")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(ctx)
	}
	if begin == end {
		return nil
	}
	st := &forState{rt: rt, body: body, pieces: rt.leafPieces(ctx.Done() != nil), cancel: cancel, dl: deadlineOf(ctx)}
	sp := splitter{splits: rt.pool.Workers(), grain: rt.autoGrain(end-begin, grain), det: rt.cfg.Policy == PolicyDeterministic}
	unwatch := st.f.Watch(ctx, func(error) error { return ctxErr(ctx) })
	defer unwatch()
	if w := rt.current(); w != nil {
		st.split(w, begin, end, sp, false)
	} else if n := end - begin; (n < 2 || n < 2*sp.grain) && rt.pool.RunInline(func() { st.leaf(nil, begin, end, sp) }) {
		// One chunk from outside with a free slot: ran on the caller, no wake-up (sched/inline.go).
	} else if err := rt.runRoot(PriorityNormal, func(w *sched.Worker) { st.split(w, begin, end, sp, false) }); err != nil {
		return err
	}
	if outer == nil {
		outer = ctx
	}
	return loopErr(outer, st.f.Err())
}

// reduceState is one Reduce call, shared by all its chunks.
type reduceState[T any] struct {
	rt       *Runtime
	identity T
	fold     func(lo, hi int, acc T) (T, error)
	combine  func(a, b T) T
	f        sched.Failure
	pieces   bool // fold leaves in time-bounded pieces (leafPieces)
	dl       deadline
}

// stopped is forState.stopped for a reduce. Any worker.
func (st *reduceState[T]) stopped() bool { return st.f.Stopped() || st.dl.expired(&st.f) }

type reduceJob[T any] struct {
	t      sched.Task
	st     *reduceState[T]
	lo, hi int
	sp     splitter
	owner  *sched.Worker
	res    T
}

func (j *reduceJob[T]) Run(w *sched.Worker) { j.res = j.st.split(w, j.lo, j.hi, j.sp, w != j.owner) }

// TraceName names the job's slice in a trace.
func (j *reduceJob[T]) TraceName() string { return "reduce" }

// split reduces [lo, hi) on w: cut while the splitter allows, fold leaves from identity, combine
// left with right. Worker only.
func (st *reduceState[T]) split(w *sched.Worker, lo, hi int, sp splitter, migrated bool) T {
	if st.stopped() {
		return st.identity
	}
	if n := hi - lo; sp.trySplit(n, migrated, st.rt.pool.Workers()) {
		mid := lo + n/2
		j := &reduceJob[T]{st: st, lo: mid, hi: hi, sp: sp, owner: w}
		j.t.Job = j
		w.Push(&j.t)
		left := st.split(w, lo, mid, sp, false)
		w.JoinTask(&j.t)
		if st.f.Stopped() {
			return st.identity
		}
		v, err := callVal(st.rt.pool, func() (T, error) { return st.combine(left, j.res), nil })
		if err != nil {
			st.f.Fail(err)
		}
		return v
	}
	v, err := st.leaf(w, lo, hi, sp)
	if err != nil {
		st.f.Fail(err)
	}
	return v
}

// Reduce folds [begin, end) in parallel: each chunk [lo, hi) is folded by fold(lo, hi, acc),
// where acc is identity or the partial result of the chunks just before it (a leaf that runs in
// pieces folds on from piece to piece), and partial results are combined pairwise with combine,
// left before right. identity is passed
// by value to every chunk, so it must be safe to share (a value, not a pointer to mutable state).
// combine must be associative; it need not be commutative. Under PolicyDeterministic the chunks
// and the combine tree depend only on (begin, end, grain), so float results are bit-identical
// across runs and worker counts. grain as in ParallelFor.
//
// Errors: as ParallelFor (a panic in fold or combine becomes a *PanicError; for a fold that can
// fail, see ReduceErr). On error the returned value is identity. Any goroutine; blocking.
func Reduce[T any](ctx context.Context, rt *Runtime, begin, end, grain int, identity T,
	fold func(lo, hi int, acc T) T, combine func(a, b T) T) (T, error) {
	if fold == nil {
		return reduce[T](ctx, rt, "Reduce", begin, end, grain, identity, nil, combine)
	}
	return reduce(ctx, rt, "Reduce", begin, end, grain, identity,
		func(lo, hi int, acc T) (T, error) { return fold(lo, hi, acc), nil }, combine)
}

// ReduceErr is Reduce with a fold that can fail: the first error a fold returns (as-is) is
// ReduceErr's result, and after it no new chunk starts, as for ParallelFor's body. A chunk that
// failed contributes nothing; on any error the returned value is identity. Any goroutine;
// blocking.
func ReduceErr[T any](ctx context.Context, rt *Runtime, begin, end, grain int, identity T,
	fold func(lo, hi int, acc T) (T, error), combine func(a, b T) T) (T, error) {
	return reduce(ctx, rt, "ReduceErr", begin, end, grain, identity, fold, combine)
}

// reduce is Reduce and ReduceErr; name is the caller's name for argument errors.
func reduce[T any](ctx context.Context, rt *Runtime, name string, begin, end, grain int, identity T,
	fold func(lo, hi int, acc T) (T, error), combine func(a, b T) T) (T, error) {
	if rt == nil {
		return identity, nilRuntime(name)
	}
	if end < begin {
		return identity, invalidf("%s: end (%d) < begin (%d)", name, end, begin)
	}
	if grain < 0 {
		return identity, invalidf("%s: grain is %d, must be >= 0", name, grain)
	}
	if fold == nil || combine == nil {
		return identity, invalidf("%s: fold and combine must not be nil", name)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return identity, ctxErr(ctx)
	}
	if begin == end {
		return identity, nil
	}
	// Reduce leaves run in pieces for cgo bodies only: a cancelled Reduce keeps its documented
	// bound of one leaf.
	st := &reduceState[T]{rt: rt, identity: identity, fold: fold, combine: combine, pieces: rt.leafPieces(false), dl: deadlineOf(ctx)}
	sp := splitter{splits: rt.pool.Workers(), grain: rt.autoGrain(end-begin, grain), det: rt.cfg.Policy == PolicyDeterministic}
	unwatch := st.f.Watch(ctx, func(error) error { return ctxErr(ctx) })
	defer unwatch()
	var res T
	if w := rt.current(); w != nil {
		res = st.split(w, begin, end, sp, false)
	} else if err := rt.runRoot(PriorityNormal, func(w *sched.Worker) { res = st.split(w, begin, end, sp, false) }); err != nil {
		return identity, err
	}
	if err := st.f.Err(); err != nil {
		return identity, loopErr(ctx, err)
	}
	return res, nil
}

// Map returns f applied to every element of in, computed in parallel (out[i] = f(in[i])).
// Errors as ParallelFor (a panic in f becomes a *PanicError; then the result is nil).
// Any goroutine; blocking.
func Map[In, Out any](ctx context.Context, rt *Runtime, in []In, f func(In) Out) ([]Out, error) {
	if f == nil {
		return nil, invalidf("Map: f is nil")
	}
	out := make([]Out, len(in))
	err := rt.ParallelFor(ctx, 0, len(in), 0, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			out[i] = f(in[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
