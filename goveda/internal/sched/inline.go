package sched

import "sync/atomic"

// Execution slots and inline runs.
//
// A call from outside the pool that is one chunk (a one-chunk ParallelFor from an application
// thread) would otherwise inject a root job, wake a parked worker (a futex wake and a thread
// switch) and wait for it (another switch back): 15-90 us, where oneTBB, whose arena counts the
// calling thread as a slot, takes about 3 us. RunInline runs such a call on the caller's own
// goroutine when an execution slot is free, keeping Workers a hard cap on bodies that execute at
// once:
//
//  1. There are Workers slots. A worker holds one whenever it is not parked; a worker parks only
//     after giving its slot back (slots <- token), and on waking takes a slot again (<-slots),
//     waiting if inline runs hold them all (they are short: one chunk).
//  2. RunInline takes a slot without blocking (a worker is parked, so its slot is free), runs fn
//     on the caller and gives the slot back. No slot free: it reports false and the caller takes
//     the ordinary path (RunRoot).
//  3. An inline body that calls back into the pool from outside (a nested RunRoot, for example a
//     C callback calling veda_parallel_for) gives its slot back while it blocks and takes one
//     again afterwards, so nesting cannot starve the workers of slots (Workers == 1 included).
//     inliners records which goroutines run inline (at most Workers at once). The pool's own
//     outside waits (Scope, Future.Wait, Group) do the same through WaitOutside. Limit: an inline
//     body that blocks by its own means (its mutex, its channel) until other pool work finished
//     keeps its slot meanwhile; with every slot so held that work waits for one.
//
// Rejected: letting the caller run every root job itself (it would then need a deque and the
// worker identity; helping waits on an outside goroutine) and spinning workers (idle cores burn).

// slotInit fills nothing: all workers start awake, holding every slot. Called by New.
func (p *Pool) slotInit() {
	p.slots = make(chan struct{}, len(p.workers))
	p.inliners = make([]atomic.Uintptr, len(p.workers))
}

// releaseSlot gives back the slot of a worker about to park. Owner worker only.
func (w *Worker) releaseSlot() { w.p.slots <- struct{}{} } // never blocks: holders <= cap

// acquireSlot takes a slot for a worker that woke up; it waits while inline runs hold them all.
// Owner worker only.
func (w *Worker) acquireSlot() { <-w.p.slots }

// RunInline runs fn on the calling goroutine if an execution slot is free and the pool is open,
// and reports whether it did. fn runs as outside code (Current() is nil there): calls it makes
// into the pool take the outside path. fn must not panic (callers recover user code). Outside
// goroutines only. Cost when a slot is free: two channel operations and two atomics, no wake-up.
func (p *Pool) RunInline(fn func()) bool {
	select {
	case <-p.slots:
	default:
		return false
	}
	if !p.Enter() {
		p.slots <- struct{}{}
		return false
	}
	g := getg()
	i, ok := p.markInliner(g)
	if !ok {
		// Every entry is held by an inline call that gave its slot back while it waits on a
		// nested call (step 3): this slot belongs to the workers that must run that nested
		// work. Give it back and take the ordinary path.
		p.slots <- struct{}{}
		p.Exit()
		return false
	}
	fn()
	p.inliners[i].Store(0) // store: this goroutine no longer runs inline
	p.inlined.Add(1)       // atomic add: a counter (Stats.Executed), no ordering role
	p.slots <- struct{}{}
	p.Exit()
	return true
}

// markInliner records g in a free inliners entry and returns its index, or false when every
// entry is taken. That happens when inline calls that gave their slot back while waiting on a
// nested call (step 3) keep their entries: the caller then holds a slot that such nested work
// needs, and must not keep it. (An earlier version spun here, holding the slot: with one worker
// that was a deadlock: the nested call's worker waited for the slot in acquireSlot.)
func (p *Pool) markInliner(g uintptr) (int, bool) {
	for i := range p.inliners {
		// CAS (seq-cst): claims entry i; pairs with the load in isInliner.
		if p.inliners[i].CompareAndSwap(0, g) {
			return i, true
		}
	}
	return 0, false
}

// isInliner reports whether the calling goroutine g runs an inline call (holds a slot). Any
// goroutine; a scan of Workers entries.
func (p *Pool) isInliner(g uintptr) bool {
	for i := range p.inliners {
		if p.inliners[i].Load() == g { // load: identity compare only
			return true
		}
	}
	return false
}

// WaitOutside runs wait, a blocking wait of an outside goroutine for work of the pool (a Scope's
// children, a Future, a Group). If the caller runs inline (holds a slot), it gives the slot back
// while it waits, as a nested RunRoot does (step 3 above), so the workers that must run the
// awaited work can take it. Any outside goroutine.
func (p *Pool) WaitOutside(wait func()) {
	if !p.isInliner(getg()) {
		wait()
		return
	}
	p.slots <- struct{}{}
	wait()
	<-p.slots
}
