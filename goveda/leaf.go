package goveda

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// leafSlice is the time a leaf piece aims at: the bound on how long a cancelled loop keeps
// running a chunk it already started (plus one piece), on how long an idle worker waits before
// a running reduce leaf offers it half of its rest (a loop leaf it joins at once, sharedLeaf),
// and on how long a cgo body runs without a rescheduling point between two pieces
// (cgo_bodies.go).
const leafSlice = 200 * time.Microsecond

// pieces runs the leaf range [lo, hi) as consecutive calls of run over pieces of at least grain
// indices, in index order, stopping early (without error) once stopped reports true, and returns
// run's first error. The first piece is grain long; each next one aims at leafSlice from an
// estimate of the cost per index (nextPiece).
//
// Reduce leaves use it, and loop leaves run inline on a caller; loop leaves on a worker claim
// their pieces from a counter that idle workers join (sharedLeaf). Between pieces, on a worker
// (w != nil; nil is a caller running inline):
//   - when some worker is idle and at least 2*grain indices are left, offer(mid, hi) hands the
//     upper half [mid, hi) to the pool as a stealable job and the leaf goes on with [lo, mid).
//     Lazy splitting cuts a range only when a task is stolen, so without this a worker that ran
//     out of work at the end of a reduce would wait for the whole leaf another worker is in
//     (its pieces fold in index order, so they cannot be claimed from a shared counter);
//   - w gets a rescheduling point (sched's YieldPoint).
//
// The cost is about log2(leaf/grain) extra calls per leaf, one per leafSlice after that, and
// two clock reads and an idle check per piece. It returns the end of the range it kept (hi, or
// the last offered half's start). Worker or inline caller.
func pieces(w *sched.Worker, lo, hi, grain int, stopped func() bool, offer func(mid, hi int), run func(lo, hi int) error) (int, error) {
	grain = max(grain, 1)
	piece := grain
	var per indexCost // cost per index (perIndex)
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
		per = perIndex(per, time.Since(t0), e-lo)
		piece = nextPiece(piece, grain, (hi-e)/2+1, per)
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

// indexCost is the estimated cost of one index in picoseconds. Nanoseconds were too coarse: a
// body under 1 ns per index (a sum loop) measured 0, the leafSlice bound never applied, and
// pieces doubled up to a quarter of what was left (measured: a 50 ms timeout returned after
// 61-64 ms, the last pieces taking ~10 ms each).
type indexCost int64

// perIndex updates the estimated cost of one index after a piece of n indices took el: that
// piece's cost per index, or 3/4 of the previous estimate if that is more. A cheap index
// (nqueens has rows that end at once) lowers the estimate a little instead of zeroing it, so a
// run of cheap indices followed by costly ones does not grow a piece that an idle worker has to
// wait for (measured: 0.5-0.9 ms tails on a 20 ms nqueens loop with the first rule, which doubled
// the piece after any piece under leafSlice/2; halving the estimate still let two cheap rows
// double it), and one costly outlier is forgotten within a few dozen pieces.
func perIndex(per indexCost, el time.Duration, n int) indexCost {
	ps := el.Nanoseconds()
	if ps > math.MaxInt64/1000 {
		ps = math.MaxInt64 / 1000 // a piece of more than 106 days
	}
	return max(indexCost(ps*1000/int64(n)), per*3/4)
}

// leafSlicePS is leafSlice in picoseconds (indexCost's unit).
const leafSlicePS = int64(leafSlice/time.Nanosecond) * 1000

// nextPiece sizes the piece after one of piece indices: leafSlice at per (the estimated cost of
// one index, perIndex), but at least grain, at most twice piece, and at most limit (a share of
// what is left, so the last pieces stay small).
func nextPiece(piece, grain, limit int, per indexCost) int {
	n := piece
	if n <= math.MaxInt/2 {
		n *= 2
	}
	if per > 0 && int64(n) > leafSlicePS/int64(per) { // compared, not multiplied: no overflow
		n = int(leafSlicePS / int64(per))
	}
	return max(grain, min(n, limit))
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
// body call, or (leafPieces) pieces that check for cancellation or failure before each. On a
// worker, the pieces come from a counter that other workers may join while the leaf runs
// (sharedLeaf); w is the worker, or nil for a caller running inline, which runs its pieces alone.
func (st *forState) leaf(w *sched.Worker, lo, hi int, sp splitter) {
	if !st.pieces {
		tb, t0 := traceChunkStart(w)
		err := callErr(st.rt.pool, func() error { return st.body(lo, hi) })
		if tb != nil {
			traceChunkEnd(w, tb, t0, lo, hi)
		}
		if err != nil {
			st.fail(err)
		}
		return
	}
	if w == nil {
		call := func(b, e int) error { return callErr(st.rt.pool, func() error { return st.body(b, e) }) }
		if _, err := pieces(nil, lo, hi, sp.grain, st.stopped, nil, call); err != nil {
			st.fail(err)
		}
		return
	}
	l := &sharedLeaf{st: st, hi: hi, grain: max(sp.grain, 1), workers: st.rt.pool.Workers()}
	l.next.Store(int64(lo))
	l.piece.Store(int64(l.grain))
	w.Share(&l.s, l.help)
	l.help(w)
	w.Unshare(&l.s)
}

// sharedLeaf is a loop leaf whose indices the owner and any worker that joins it (sched's
// Shared) claim piece by piece from one counter, the way OpenMP's dynamic schedule hands out
// iterations: a worker that runs out of work joins at once instead of waiting for the owner's
// next piece boundary, and the loop's end waits for the rest of one piece. Pieces aim at
// leafSlice (nextPiece), and at most 1/(2*workers) of what is left, so the last ones shrink.
type sharedLeaf struct {
	s       sched.Shared
	st      *forState
	next    atomic.Int64 // the first unclaimed index, never past hi; CAS (seq-cst) in claim
	piece   atomic.Int64 // the last piece size a runner chose: a joiner's first piece; hint only
	hi      int
	grain   int
	workers int
}

// claim takes the next piece of at most piece indices, or reports false when none is left. The
// CAS never moves next past hi, so neither next nor lo+piece can overflow near the ends of int's
// range (a plain add of piece did, with a huge grain). Any runner.
func (l *sharedLeaf) claim(piece int) (lo, e int, ok bool) {
	for {
		cur := l.next.Load() // load (seq-cst): the CAS below claims from it
		if cur >= int64(l.hi) {
			return 0, 0, false
		}
		n := min(int64(piece), int64(l.hi)-cur)
		if l.next.CompareAndSwap(cur, cur+n) { // CAS (seq-cst): [cur, cur+n) is ours alone
			return int(cur), int(cur + n), true
		}
	}
}

// help claims and runs pieces until none is left, the loop failed, or it was cancelled. The
// owner and any number of joiners run it at once. Worker only.
func (l *sharedLeaf) help(w *sched.Worker) {
	st := l.st
	piece := int(l.piece.Load()) // load: a hint
	var per indexCost            // cost per index, as in pieces
	tb, t0 := traceChunkStart(w)
	runLo, runHi := 0, 0 // the contiguous run of pieces traced as one chunk
	for !st.stopped() {
		lo, e, ok := l.claim(piece)
		if !ok {
			break
		}
		if tb != nil && lo != runHi {
			if runHi > runLo {
				traceChunkEnd(w, tb, t0, runLo, runHi)
				t0 = w.Now()
			}
			runLo = lo
		}
		c := time.Now()
		err := callErr(st.rt.pool, func() error { return st.body(lo, e) })
		runHi = e
		if err != nil {
			st.fail(err)
			break
		}
		per = perIndex(per, time.Since(c), e-lo)
		left := l.hi - int(l.next.Load()) // load: a hint for the next size (never past hi)
		piece = nextPiece(piece, l.grain, max(left/(2*l.workers), 1), per)
		l.piece.Store(int64(piece)) // store: a hint
		// left/2, not 2*piece: a grain near MaxInt would wrap.
		if left/2 >= piece {
			w.Invite()
		}
		w.YieldPoint()
	}
	// Nothing is left to claim, or the loop stopped: joiners stop entering (an idle worker
	// would otherwise join and leave again and again while the last pieces run, and never park).
	l.s.Drain()
	if tb != nil && runHi > runLo {
		traceChunkEnd(w, tb, t0, runLo, runHi)
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
	end, err := pieces(w, lo, hi, sp.grain, st.stopped, func(mid, hi int) {
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
