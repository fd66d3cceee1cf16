package goveda

import "github.com/veda-runtime/veda/goveda/internal/sched"

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
// From outside the pool the caller blocks while a worker runs the Join.
func Join[A, B any](rt *Runtime, fa func() (A, error), fb func() (B, error)) (A, B, error) {
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
	var a A
	var b B
	var err error
	if rerr := rt.runRoot(PriorityNormal, func(w *sched.Worker) { a, b, err = joinOn(w, fa, fb) }); rerr != nil {
		return a, b, rerr
	}
	return a, b, err
}

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
