package goveda

import "github.com/veda-runtime/veda/goveda/internal/sched"

// JoinWith is the allocation-free fork-join for bindings and hot recursive code: one function
// applied to two arguments instead of two closures (the C ABI's veda_join is one call of it).

// joinWithJob is the second half of a JoinWith, pushed for thieves.
type joinWithJob[T any] struct {
	t   sched.Task
	f   func(T) error
	arg T
	err error
}

func (j *joinWithJob[T]) Run(w *sched.Worker) { j.err = callArg(w.Pool(), j.f, j.arg) }

// JoinWith runs f(a) and f(b), potentially in parallel, and returns when both have returned.
// Both always run. The error is f(a)'s if non-nil, else f(b)'s; a panic becomes a *PanicError.
// A nil f wraps ErrInvalidArgument (nothing runs); a closed runtime (outside callers only) gives
// ErrClosed.
//
// Any goroutine. From a task it works as Join: f(b) is pushed on the worker's deque, f(a) runs at
// once, and the worker helps with other tasks if f(b) was stolen. Unlike Join it allocates
// nothing on that path when f is a plain function (not a closure) and T holds no pointer to
// escape: the job comes from the worker's free list. From outside the pool the caller blocks
// while a worker runs the join.
func JoinWith[T any](rt *Runtime, f func(T) error, a, b T) error {
	if rt == nil {
		return nilRuntime("JoinWith")
	}
	if f == nil {
		return invalidf("JoinWith: f must not be nil")
	}
	if w := rt.current(); w != nil {
		return joinWithOn(w, f, a, b)
	}
	return joinWithOutside(rt, f, a, b)
}

// joinWithOutside runs the join as a root task and blocks. Outside goroutines only.
func joinWithOutside[T any](rt *Runtime, f func(T) error, a, b T) error {
	var err error
	if rerr := rt.runRoot(PriorityNormal, func(w *sched.Worker) { err = joinWithOn(w, f, a, b) }); rerr != nil {
		return rerr
	}
	return err
}

// joinWithOn is JoinWith on worker w. Worker only. A job that ran inline goes back to w's free
// list (as in joinOn: a thief that read its pointer lost the CAS on top and dropped it).
func joinWithOn[T any](w *sched.Worker, f func(T) error, a, b T) error {
	var j *joinWithJob[T]
	if c := w.TakeFree(); c != nil {
		if j, _ = c.(*joinWithJob[T]); j == nil {
			w.PutFree(c) // another type's job: leave it for its own kind
		}
	}
	if j == nil {
		j = &joinWithJob[T]{}
		j.t.Job = j
	}
	j.f, j.arg = f, b
	w.Push(&j.t)
	errA := callArg(w.Pool(), f, a)
	inline := w.JoinTask(&j.t)
	errB := j.err
	if inline {
		var zero T
		j.f, j.arg, j.err = nil, zero, nil
		w.PutFree(j)
	}
	if errA != nil {
		return errA
	}
	return errB
}

// callArg calls f(arg) and converts a panic into a *PanicError. Any goroutine.
func callArg[T any](p *sched.Pool, f func(T) error, arg T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(p, r)
		}
	}()
	return f(arg)
}
