package goveda

import (
	"fmt"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// joinJob is the second half of a Join, pushed for thieves.
type joinJob[B any] struct {
	t   sched.Task
	fb  func() (B, error)
	res B
	err error
}

func (j *joinJob[B]) Run(w *sched.Worker) { j.res, j.err = callVal(w.Pool(), j.fb) }

// TraceName names the job's slice in a trace.
func (j *joinJob[B]) TraceName() string { return "join" }

// Join runs fa and fb, potentially in parallel, and returns both results when both finished.
// Both always run. The error is fa's error if non-nil, else fb's; a panic in either becomes a
// *PanicError. A closed runtime (outside callers only) gives ErrClosed; nil functions wrap
// ErrInvalidArgument.
//
// Any goroutine. From a task, fb is pushed on the worker's deque and fa runs at once; if nobody
// stole fb it runs inline next (cost: one small allocation and a few atomics, tens of ns), else
// the worker helps with other tasks until fb finishes. Nested Joins never deadlock, at any depth.
// From outside the pool, fb is queued for the workers and fa runs on the caller in one of the
// pool's execution slots (waiting for one while all are taken), then fb too if no worker took it
// yet; nested calls from fa take the outside path. fa is never handed to another goroutine, so
// a closure passed as fa need not be allocated.
func Join[A, B any](rt *Runtime, fa func() (A, error), fb func() (B, error)) (A, B, error) {
	if rt == nil {
		var a A
		var b B
		return a, b, nilRuntime("Join")
	}
	if fa == nil || fb == nil {
		var a A
		var b B
		return a, b, invalidf("Join: fa and fb must not be nil")
	}
	if w := rt.current(); w != nil {
		return joinOn(w, fa, fb)
	}
	return joinOutside(rt, fa, fb)
}

// joinOutside runs the Join as a root task and blocks. Kept apart from Join so that Join's
// worker path does not move its results to the heap. Outside goroutines only.
func joinOutside[A, B any](rt *Runtime, fa func() (A, error), fb func() (B, error)) (A, B, error) {
	// fb goes to the pool; fa runs here, on the caller, in an execution slot (Workers stays the
	// cap on bodies running at once), and then fb too if no worker took it yet. Nothing but fb
	// is handed to another goroutine, so fa never escapes: a caller's closure for fa stays on
	// its stack (half of Join's allocations; 17% of its cost per task).
	var a A
	var errA error
	j := &outsideJoinJob[B]{fb: fb, done: make(chan struct{})}
	j.t.Job = j
	p := rt.pool
	if !p.Enter() {
		var b B
		return a, b, fmt.Errorf("%w", ErrClosed)
	}
	defer p.Exit()
	p.Inject(&j.t, PriorityNormal.level(), 0)
	if p.Scheduled() {
		// Recording or replaying a schedule: fb stays a task of the workers (as recorded), and
		// fa takes no slot (replaying workers keep theirs while they wait for their next task).
		a, errA = callVal(p, fa)
		p.WaitOutside(func() { <-j.done })
		return a, j.res, joinErr(p, errA, j.err)
	}
	p.RunInSlot(func() {
		a, errA = callVal(p, fa)
		if j.claim.CompareAndSwap(false, true) { // CAS (seq-cst): fb is ours, no worker took it
			j.res, j.err = callVal(p, fb)
			return
		}
		p.WaitOutside(func() { <-j.done }) // a worker runs fb; lend the slot meanwhile
	})
	return a, j.res, joinErr(p, errA, j.err)
}

// joinErr is an outside Join's error: a replay divergence, else fa's error, else fb's.
func joinErr(p *sched.Pool, errA, errB error) error {
	if err := p.TakeReplayError(); err != nil {
		return wrap(ErrInvalidArgument, err)
	}
	if errA != nil {
		return errA
	}
	return errB
}

// outsideJoinJob is fb of a Join called from outside the pool: injected for the workers, and
// run by whichever side claims it first (a worker, or the caller once fa returned).
type outsideJoinJob[B any] struct {
	t     sched.Task
	fb    func() (B, error)
	claim atomic.Bool   // CAS false -> true by the one that runs fb (seq-cst)
	done  chan struct{} // closed by a worker that ran fb
	res   B
	err   error
}

func (j *outsideJoinJob[B]) Run(w *sched.Worker) {
	if j.claim.CompareAndSwap(false, true) { // CAS (seq-cst): pairs with the caller's
		j.res, j.err = callVal(w.Pool(), j.fb)
		close(j.done) // the caller's <-j.done: res and err happen before
	}
}

// TraceName names the job's slice in a trace.
func (j *outsideJoinJob[B]) TraceName() string { return "join" }

// joinOn is Join on worker w. Worker only.
// A job that ran inline (never stolen) goes back to w's free list: no other goroutine can still
// use it (a thief that read its pointer lost the CAS on top and dropped it).
func joinOn[A, B any](w *sched.Worker, fa func() (A, error), fb func() (B, error)) (A, B, error) {
	var j *joinJob[B]
	if c := w.TakeFree(); c != nil {
		if j, _ = c.(*joinJob[B]); j == nil {
			w.PutFree(c) // another type's job: leave it for its own kind
		}
	}
	if j == nil {
		j = &joinJob[B]{}
		j.t.Job = j
	}
	j.fb = fb
	w.Push(&j.t)
	a, errA := callVal(w.Pool(), fa)
	inline := w.JoinTask(&j.t)
	b, errB := j.res, j.err
	if inline {
		var zero B
		j.fb, j.res, j.err = nil, zero, nil
		w.PutFree(j)
	}
	if errA != nil {
		return a, b, errA
	}
	return a, b, errB
}
