package goveda

// JoinWith is the allocation-free fork-join for bindings and hot recursive code: one function
// applied to two arguments instead of two closures (the C ABI's veda_join is one call of it).

// joinWithJob is the second half of a JoinWith, pushed for thieves.
type joinWithJob[T any] struct {
	t   task
	f   func(T) error
	arg T
	err error
}

func (j *joinWithJob[T]) run(w *worker) { j.err = callArg(w.rt, j.f, j.arg) }

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
	if rerr := rt.runRoot(PriorityNormal, func(w *worker) { err = joinWithOn(w, f, a, b) }); rerr != nil {
		return rerr
	}
	return err
}

// joinWithOn is JoinWith on worker w. Worker only. A job that ran inline goes back to w's free
// list (as in joinOn: a thief that read its pointer lost the CAS on top and dropped it).
func joinWithOn[T any](w *worker, f func(T) error, a, b T) error {
	var j *joinWithJob[T]
	if n := len(w.jobFree); n > 0 {
		if c, ok := w.jobFree[n-1].(*joinWithJob[T]); ok {
			j = c
			w.jobFree[n-1] = nil
			w.jobFree = w.jobFree[:n-1]
		}
	}
	if j == nil {
		j = &joinWithJob[T]{}
		j.t.r = j
	}
	j.f, j.arg = f, b
	w.push(&j.t)
	errA := callArg(w.rt, f, a)
	inline := w.joinTask(&j.t)
	errB := j.err
	if inline && len(w.jobFree) < maxJobFree {
		var zero T
		j.f, j.arg, j.err = nil, zero, nil
		w.jobFree = append(w.jobFree, j)
	}
	if errA != nil {
		return errA
	}
	return errB
}

// callArg calls f(arg) and converts a panic into a *PanicError. Any goroutine.
func callArg[T any](rt *Runtime, f func(T) error, arg T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(rt, p)
		}
	}()
	return f(arg)
}
