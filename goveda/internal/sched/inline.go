package sched

import (
	"sync/atomic"
	"time"
)

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
//
// The slots are a counting semaphore whose words live in a Gate, a small pointer-free struct
// separate from the Pool, so that foreign code can use the same slots in place: the C ABI runs a
// one-chunk veda_parallel_for on the C caller's thread without entering Go at all (capi.c), which
// saves the cgo re-entry (about 2 us warm and 9-15 us with cold caches, as from Python). Foreign
// code follows the same protocol as RunInline: Foreign++ then check Closed (the Dekker pair with
// Close, which stores Closed and then waits for Foreign == 0); take a slot with tryAcquire's
// fair rule (only while Avail > Waiters, so waiting workers are not starved by a stream of
// inline calls); run; give it back (Avail++) and, if Waiters > 0 then, call WakeSlot; Foreign--.
// A foreign holder whose body calls back into the pool is recognised by the ForeignHolder hook
// (step 3 applies to it as to an inline goroutine).

// Gate holds the execution-slot semaphore. All fields are 32/64-bit words used only with atomic
// operations (sync/atomic here, C11 atomics in foreign code: the same instructions). The layout
// is a contract with capi.c's vedac_gate: do not reorder.
type Gate struct {
	// Avail: free slots. Add/CAS (seq-cst) by every holder; pairs with Waiters (see acquireWait).
	Avail atomic.Int32
	// Waiters: goroutines blocked in acquireWait. Add (seq-cst) before their re-check; a releaser
	// loads it after its Avail add, so one of the two sees the other.
	Waiters atomic.Int32
	// Closed: 1 once Close began. Store (seq-cst) by Close; foreign callers load it after their
	// Foreign add (Dekker pair): either Close sees them or they see Closed and back off.
	Closed atomic.Int32
	// Foreign: foreign inline runs between their Closed check and their release. shutdown waits
	// for 0.
	Foreign atomic.Int32
	// Inlined: foreign inline runs finished; add only (Stats.Executed).
	Inlined atomic.Uint64
	_       [cacheLine - 24]byte // the words above change at every park and inline run
	// Idle and Searching are the parking lot's counters (park.go's sleepState points at them):
	// registered sleepers and searching workers. They live here so that foreign code that
	// pushes a join record reads them in place, after its push, as Pool.notify does (ext.go).
	Idle      atomic.Int32
	Searching atomic.Int32
}

// slotInit makes the gate: all workers start awake, holding every slot (Avail = 0). Called by
// New.
func (p *Pool) slotInit() {
	p.gate = new(Gate)
	p.slotWake = make(chan struct{}, 2*len(p.workers)+1)
	p.inliners = make([]atomic.Uintptr, len(p.workers))
	p.inlineExtra = map[uintptr]int{}
}

// Gate returns the pool's slot gate (for a foreign fast path; see the top of this file). The
// caller must keep the address valid for foreign code (goveda pins it).
func (p *Pool) Gate() *Gate { return p.gate }

// SetForeignHolder installs the check that reports whether the calling goroutine's thread holds
// one of p's slots through foreign code (nil: none). Call before handing the gate out; any
// goroutine.
func (p *Pool) SetForeignHolder(f func() bool) {
	if f == nil {
		p.foreignHolds.Store(nil)
		return
	}
	p.foreignHolds.Store(&f) // store: publishes f to holdsSlot's load
}

// tryAcquire takes a slot without blocking. fair: only while free slots outnumber the waiters
// (inline runs); workers and outside waits pass false. Any goroutine.
func (g *Gate) tryAcquire(fair bool) bool {
	for a := g.Avail.Load(); a > 0; a = g.Avail.Load() { // load (seq-cst): see Avail
		if fair && a <= g.Waiters.Load() { // load: waiting goroutines go first
			return false
		}
		if g.Avail.CompareAndSwap(a, a-1) { // CAS (seq-cst): takes one slot
			return true
		}
	}
	return false
}

// acquireWait takes a slot, blocking while none is free. Any goroutine of the pool (workers
// waking up, outside waits taking their slot back).
func (p *Pool) acquireWait() {
	g := p.gate
	for !g.tryAcquire(false) {
		g.Waiters.Add(1) // add (seq-cst) before the re-check: a releaser either sees us or we see its slot
		if g.tryAcquire(false) {
			g.Waiters.Add(-1)
			return
		}
		<-p.slotWake // a token from a release (maybe stale: then we loop)
		g.Waiters.Add(-1)
	}
}

// releaseSlotWord gives a slot back and wakes a waiter if there is one. Any holder.
func (p *Pool) releaseSlotWord() {
	p.gate.Avail.Add(1)            // add (seq-cst): see acquireWait
	if p.gate.Waiters.Load() > 0 { // load (seq-cst): after the add (Dekker with acquireWait)
		p.WakeSlot()
	}
}

// WakeSlot wakes one goroutine blocked for a slot (a buffered token: never blocks; a full buffer
// means every waiter already has a token). Foreign holders call it after their release saw
// Waiters > 0. Any goroutine.
func (p *Pool) WakeSlot() {
	select {
	case p.slotWake <- struct{}{}:
	default:
	}
}

// releaseSlot gives back the slot of a worker about to park. Owner worker only.
func (w *Worker) releaseSlot() { w.p.releaseSlotWord() }

// acquireSlot takes a slot for a worker that woke up; it waits while inline runs hold them all.
// Owner worker only.
func (w *Worker) acquireSlot() { w.p.acquireWait() }

// waitForeign waits until no foreign inline run is in progress (after Closed was stored).
// shutdown only; foreign runs are one chunk, so this normally returns at once.
func (p *Pool) waitForeign() {
	for d := time.Microsecond; p.gate.Foreign.Load() != 0; { // load (seq-cst): see Gate.Closed
		time.Sleep(d)
		if d < time.Millisecond {
			d *= 2
		}
	}
}

// RunInline runs fn on the calling goroutine if an execution slot is free and the pool is open,
// and reports whether it did. fn runs as outside code (Current() is nil there): calls it makes
// into the pool take the outside path. fn must not panic (callers recover user code). Outside
// goroutines only. Cost when a slot is free: two channel operations and two atomics, no wake-up.
func (p *Pool) RunInline(fn func()) bool {
	if !p.gate.tryAcquire(true) {
		return false
	}
	if !p.Enter() {
		p.releaseSlotWord()
		return false
	}
	g := getg()
	i, ok := p.markInliner(g)
	if !ok {
		// Every entry is held by an inline call that gave its slot back while it waits on a
		// nested call (step 3): this slot belongs to the workers that must run that nested
		// work. Give it back and take the ordinary path.
		p.releaseSlotWord()
		p.Exit()
		return false
	}
	fn()
	p.inliners[i].Store(0) // store: this goroutine no longer runs inline
	p.inlined.Add(1)       // atomic add: a counter (Stats.Executed), no ordering role
	p.releaseSlotWord()
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
	if p.extraN.Load() > 0 { // load: RunInSlot's overflow set is in use
		p.inlineMu.Lock()
		n := p.inlineExtra[g]
		p.inlineMu.Unlock()
		return n > 0
	}
	return false
}

// WaitOutside runs wait, a blocking wait of an outside goroutine for work of the pool (a Scope's
// children, a Future, a Group). If the caller runs inline (holds a slot), it gives the slot back
// while it waits, as a nested RunRoot does (step 3 above), so the workers that must run the
// awaited work can take it. Any outside goroutine.
func (p *Pool) WaitOutside(wait func()) {
	if !p.holdsSlot(getg()) {
		wait()
		return
	}
	p.releaseSlotWord()
	wait()
	p.acquireWait()
}

// holdsSlot reports whether the calling goroutine g holds a slot outside the workers: it runs
// inline (RunInline), or its thread runs a foreign inline body (SetForeignHolder). Any goroutine.
func (p *Pool) holdsSlot(g uintptr) bool {
	if p.isInliner(g) {
		return true
	}
	if f := p.foreignHolds.Load(); f != nil { // load: see SetForeignHolder
		return (*f)()
	}
	return false
}

// RunInSlot runs fn on the calling outside goroutine in an execution slot: at once if the
// goroutine already holds one (it runs inline or in a foreign inline body), else after taking
// one, waiting while none is free as a waking worker does. Calls fn makes into the pool take the
// outside path, and its waits lend the slot (WaitOutside), as for RunInline. The caller holds
// an admission (Enter) for the whole call. fn must not panic (callers recover user code).
// Outside goroutines only. fn does not escape: a caller's closure stays on its stack.
func (p *Pool) RunInSlot(fn func()) {
	g := getg()
	if p.holdsSlot(g) {
		fn()
		return
	}
	p.acquireWait()
	i, ok := p.markInliner(g)
	if !ok {
		// Every entry is held by inline callers that lent their slots while they wait: record
		// this one in the overflow set, so that its own nested waits lend its slot too.
		p.inlineMu.Lock()
		p.inlineExtra[g]++
		p.inlineMu.Unlock()
		p.extraN.Add(1) // add (seq-cst): isInliner checks the set while it is non-zero
	}
	fn()
	if ok {
		p.inliners[i].Store(0) // store: this goroutine no longer runs inline
	} else {
		p.inlineMu.Lock()
		if p.inlineExtra[g]--; p.inlineExtra[g] == 0 {
			delete(p.inlineExtra, g)
		}
		p.inlineMu.Unlock()
		p.extraN.Add(-1)
	}
	p.releaseSlotWord()
}
