package goveda

import (
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// leafSlice is the time a leaf piece aims at: the bound on how long a cancelled loop keeps
// running a chunk it already started (plus one piece), on how long an idle worker waits before
// a running leaf offers it half of its rest, and on how long a cgo body runs without a
// rescheduling point between two pieces (cgo_bodies.go).
const leafSlice = 200 * time.Microsecond

// pieces runs the leaf range [lo, hi) as consecutive calls of run over pieces of at least grain
// indices, in index order, stopping early (without error) once stopped reports true, and returns
// run's first error. The first piece is grain long; each next piece doubles while the previous
// took under leafSlice/2, and halves (never below grain) while it took over 2*leafSlice.
//
// Between pieces, on a worker (w != nil; nil is a caller running inline):
//   - when some worker is idle and at least 2*grain indices are left, offer(mid, hi) hands the
//     upper half [mid, hi) to the pool as a stealable job and the leaf goes on with [lo, mid).
//     Lazy splitting cuts a range only when a task is stolen, so without this a worker that ran
//     out of work at the end of a loop would wait for the whole leaf another worker is in;
//   - w gets a rescheduling point (sched's YieldPoint).
//
// The cost is about log2(leaf/grain) extra calls per leaf, one per leafSlice after that, and
// two clock reads and an idle check per piece. It returns the end of the range it kept (hi, or
// the last offered half's start). Worker or inline caller.
func pieces(w *sched.Worker, lo, hi, grain int, stopped func() bool, offer func(mid, hi int), run func(lo, hi int) error) (int, error) {
	grain = max(grain, 1)
	piece := grain
	for lo < hi {
		if stopped() {
			return hi, nil
		}
		e := hi
		if hi-lo > piece {
			e = lo + piece
		}
		t0 := time.Now()
		if err := run(lo, e); err != nil {
			return hi, err
		}
		switch el := time.Since(t0); {
		case el < leafSlice/2:
			if piece < (hi-lo)/2+1 {
				piece *= 2
			}
		case el > 2*leafSlice && piece/2 >= grain:
			piece /= 2
		}
		lo = e
		if w == nil || lo >= hi {
			continue
		}
		if hi-lo >= 2*grain && w.Pool().IdleWorkers() > 0 {
			mid := lo + (hi-lo)/2
			offer(mid, hi)
			hi = mid
		}
		w.YieldPoint()
	}
	return hi, nil
}

// leafPieces reports whether loop leaves run in pieces: when the call's context can be
// cancelled (a cancellation only stops chunks that have not started, and lazy splitting makes
// few, large leaves of about n / (2 * workers) indices, so a cancelled loop would run on for up
// to a whole leaf), and for cgo bodies (cgo_bodies.go). Never under PolicyDeterministic, whose
// chunks depend only on the range and grain.
func (rt *Runtime) leafPieces(cancellable bool) bool {
	return (cancellable || rt.cfg.CgoBodies) && rt.cfg.Policy != PolicyDeterministic
}

// leaf runs the body over the leaf range [lo, hi) that split decided not to cut further: one
// body call, or pieces (leafPieces) that check for cancellation or failure before each. The
// halves it offers to idle workers are split as any stolen range, and leaf joins them (last
// offered first) before it returns. w is the worker, or nil for a caller running inline.
func (st *forState) leaf(w *sched.Worker, lo, hi int, sp splitter) {
	call := func(b, e int) error { return callErr(st.rt.pool, func() error { return st.body(b, e) }) }
	tb, t0 := traceChunkStart(w)
	if !st.pieces {
		err := call(lo, hi)
		if tb != nil {
			traceChunkEnd(w, tb, t0, lo, hi)
		}
		if err != nil {
			st.fail(err)
		}
		return
	}
	var offered []*forJob
	end, err := pieces(w, lo, hi, sp.grain, st.f.Stopped, func(mid, hi int) {
		j := &forJob{st: st, lo: mid, hi: hi, sp: sp, owner: w}
		j.t.Job = j
		w.Push(&j.t)
		offered = append(offered, j)
	}, call)
	if tb != nil {
		traceChunkEnd(w, tb, t0, lo, end)
	}
	if err != nil {
		st.fail(err)
	}
	for i := len(offered) - 1; i >= 0; i-- {
		w.JoinTask(&offered[i].t)
	}
}

// leaf folds the leaf range [lo, hi) from identity: one fold call, or pieces (leafPieces) in
// which each piece folds on from the previous piece's accumulator, in index order. The halves
// offered to idle workers cover indices after the kept part, so their results are combined in
// after it, last offered first (left before right). Worker only.
func (st *reduceState[T]) leaf(w *sched.Worker, lo, hi int, sp splitter) (T, error) {
	tb, t0 := traceChunkStart(w)
	if !st.pieces {
		v, err := callVal(st.rt.pool, func() (T, error) { return st.fold(lo, hi, st.identity) })
		if tb != nil {
			traceChunkEnd(w, tb, t0, lo, hi)
		}
		return v, err
	}
	var offered []*reduceJob[T]
	v := st.identity
	end, err := pieces(w, lo, hi, sp.grain, st.f.Stopped, func(mid, hi int) {
		j := &reduceJob[T]{st: st, lo: mid, hi: hi, sp: sp, owner: w}
		j.t.Job = j
		w.Push(&j.t)
		offered = append(offered, j)
	}, func(b, e int) error {
		nv, err := callVal(st.rt.pool, func() (T, error) { return st.fold(b, e, v) })
		if err == nil {
			v = nv
		}
		return err
	})
	if tb != nil {
		traceChunkEnd(w, tb, t0, lo, end)
	}
	for i := len(offered) - 1; i >= 0; i-- {
		j := offered[i]
		w.JoinTask(&j.t)
		if err == nil && !st.f.Stopped() {
			v, err = callVal(st.rt.pool, func() (T, error) { return st.combine(v, j.res), nil })
		}
	}
	return v, err
}
