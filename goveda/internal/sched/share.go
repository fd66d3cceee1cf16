package sched

import "sync/atomic"

// Shared work: a task that other workers may join while its owner runs it.
//
// A loop leaf is the range that lazy splitting decided not to cut. Its owner runs it piece by
// piece; without sharing, a worker that runs out of work waits until the owner reaches a piece
// boundary and hands it half of the rest (goveda's leaf.go), or until the whole leaf is done.
// With sharing, the owner publishes the leaf (Share) and any worker that finds no task to run or
// steal joins it at once (helpShared) and claims pieces from the same counter as the owner, the
// way OpenMP's dynamic schedule hands out iterations. The end of a loop then waits for the
// remainder of one piece, not for a whole half: on nqueens 13 (169 tasks of 0.15-0.34 ms, 2
// workers) the idle tail at the end of a call was 270-420 us (median) with halving and OpenMP's
// was 30-50 us.
//
// Protocol (state packs 4*helpers | drained | closed):
//   - owner: Share publishes s in w.shared (saving the previous one, for a nested leaf); the
//     owner runs the work; Unshare restores the previous pointer, sets closed, and waits
//     (helping) until every helper that joined has left;
//   - joiner: loads a victim's w.shared, enters with a CAS that fails once closed or drained,
//     runs help, and leaves; the last one to leave after closed sets done;
//   - a runner whose help finds nothing left to claim calls Drain, so that idle workers stop
//     joining a Shared whose last pieces are still running (they would otherwise count each
//     empty join as work and never park: measured 1 s of CPU while a 500 ms last piece ran).
//
// help must return once there is nothing left to claim; it may run concurrently on any number of
// workers, and after Unshare began. It then usually finds nothing; but when the owner stopped
// early (a body failed), a helper that checked for the stop just before it may still claim and
// run one piece, and Unshare waits for it.
type Shared struct {
	state atomic.Int32 // 4*helpers inside | sharedDrained | sharedClosed; CAS/add/or (seq-cst), see enter and Unshare
	done  Latch        // set by the last helper to leave after closed (never set if none joined)
	help  func(w *Worker)
	prev  *Shared // the owner's previously published Shared (a nested leaf); owner only
}

const (
	sharedClosed  = 1 // Unshare began: no new helper, done is set when the last one leaves
	sharedDrained = 2 // nothing left to claim (Drain): no new helper
	sharedHelper  = 4 // one helper inside
)

// Drain marks s as having nothing left to claim: joiners stop entering it. Any runner of s's
// help; idempotent.
func (s *Shared) Drain() {
	s.state.Or(sharedDrained) // or (seq-cst): a hint for enter; no result depends on it
}

// Share publishes s, whose work help claims and runs, for other workers to join until Unshare.
// Owner only (a task running on w). s must be new (zero) and must not be published elsewhere.
func (w *Worker) Share(s *Shared, help func(w *Worker)) {
	s.help = help
	s.prev = w.shared.Load() // load: owner's own field
	// store (seq-cst): publishes s and its help field to joiners, which load w.shared.
	w.shared.Store(s)
}

// Unshare withdraws s (published by w.Share) and returns once no helper is inside it any more;
// meanwhile w helps (runs other tasks). Owner only; pairs with each Share, innermost first.
func (w *Worker) Unshare(s *Shared) {
	w.shared.Store(s.prev) // store: new joiners no longer find s
	// or (seq-cst): closes s; joiners that enter before it are counted in the result, any
	// later enter fails, so the count can only fall from here.
	if s.state.Or(sharedClosed)&^(sharedClosed|sharedDrained) == 0 {
		return // nobody inside
	}
	w.WaitUntil(&s.done, nil)
}

// enter joins s unless it is closed. Any worker.
func (s *Shared) enter() bool {
	for {
		v := s.state.Load() // load (seq-cst): see Unshare
		if v&(sharedClosed|sharedDrained) != 0 {
			return false
		}
		if s.state.CompareAndSwap(v, v+sharedHelper) { // CAS (seq-cst): counted before a close can complete
			return true
		}
	}
}

// leave ends a join; the last helper to leave a closed s wakes its owner. Any worker.
func (s *Shared) leave() {
	// add (seq-cst): the helper's writes (its pieces' effects) are released before the owner's
	// Unshare sees the count reach zero: through done, or directly in the state word its Or
	// returns when every helper had already left.
	if v := s.state.Add(-sharedHelper); v&sharedClosed != 0 && v&^(sharedClosed|sharedDrained) == 0 {
		s.done.Set()
	}
}

// joinShared enters one other worker's published Shared, if any is published and open, and
// returns it (run it with runShared); nil if none. Called by a worker that found no task (idle
// loop, waits), which does its own bookkeeping between the two. Owner only (w). Its victim loop is
// steal's, written out again: with one iterator shared by both (range over func, inlined, and
// stealFrom per victim), BenchmarkFib32 was slower in 5 of 5 alternated runs (10.6-12.6 ms
// against 10.2-11.5), so the hot steal path keeps its own.
func (w *Worker) joinShared() *Shared {
	ws := w.p.workers
	n := len(ws)
	if n == 1 {
		return nil
	}
	start := int(w.nextRand() % uint64(n))
	for i := 0; i < n; i++ {
		v := ws[(start+i)%n]
		if v == w {
			continue
		}
		// load (seq-cst): pairs with the store in Share, so help is visible.
		if s := v.shared.Load(); s != nil && s.enter() {
			return s
		}
	}
	return nil
}

// runShared runs the help of s, entered by joinShared, and leaves it. Owner only (w).
func (w *Worker) runShared(s *Shared) {
	s.help(w)
	s.leave()
	if w.p.yield {
		w.afterTask()
	}
}

// Invite wakes one parked worker, if one is parked and none is already searching, so that it
// can join the work that the caller shares: a worker that parked before the work was published
// finds it in its idle loop. Called between pieces when at least two are left (no task was pushed
// that would wake one). Any worker; two atomic loads when nobody sleeps.
func (w *Worker) Invite() {
	p := w.p
	// loads (seq-cst): a hint; a worker that registers to sleep just after re-checks for work
	// and may miss the Shared, which the next Invite, a piece later, corrects.
	if p.sleep.idle.Load() == 0 || p.sleep.searching.Load() > 0 {
		return
	}
	p.sleep.wakeOne(p.active.Load()) // load: the adaptive limit
}
