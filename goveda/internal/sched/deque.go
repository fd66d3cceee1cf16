package sched

import (
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda/internal/relaxed"
)

// cacheLine is the padding unit for hot per-worker state (64 bytes on x86-64; 128 would also
// cover adjacent-line prefetch, at twice the memory).
const cacheLine = 64

// deque is a Chase-Lev work-stealing deque ("Dynamic Circular Work-Stealing Deque", SPAA 2005;
// orderings as in Le et al., "Correct and Efficient Work-Stealing for Weak Memory Models",
// PPoPP 2013). The owner worker pushes and pops at the bottom (LIFO, cache-warm); thieves steal
// from the top (FIFO, the oldest and usually largest pieces of work).
//
// Go's sync/atomic operations are sequentially consistent, which is at least as strong as every
// ordering the algorithm needs; each comment names the role the operation plays.
type deque struct {
	top atomic.Int64 // next index to steal; only ever increases, by CAS (thieves and owner)
	_   [cacheLine - 8]byte
	// bottom is the next index to push. Written only by the owner.
	bottom atomic.Int64
	buf    atomic.Pointer[ring] // current ring; replaced (grown) only by the owner
	_      [cacheLine - 16]byte
}

// ring is a power-of-two circular array of task slots. Thieves load and CAS slots atomically; the
// owner's push and pop write them with relaxed.StorePointer (a plain store outside race-detector
// builds, ordered by the store of bottom: see push). A thief reading a slot the owner is
// rewriting is a benign race, resolved by the CAS on top.
type ring struct {
	mask  int64
	slots []atomic.Pointer[Task]
}

const initialRing = 64

func newRing(n int64) *ring {
	return &ring{mask: n - 1, slots: make([]atomic.Pointer[Task], n)}
}

func (d *deque) init() { d.buf.Store(newRing(initialRing)) }

// push adds t at the bottom. Owner worker only. Amortized O(1); grows the ring when full.
func (d *deque) push(t *Task) {
	b := d.bottom.Load() // owner-only variable: plain read of our own last store
	tp := d.top.Load()   // load-acquire: a stale (smaller) top only makes us grow early
	r := d.buf.Load()
	if b-tp > r.mask { // full
		r = d.grow(r, tp, b)
	}
	// A plain store (relaxed; measured: an atomic pointer store is an XCHG, about 9 ns here, and
	// two of them, this one and the pop's clear, were a tenth of a Join's overhead). A thief
	// loads bottom, then the slot, so bottom's store below orders this write before the thief's
	// read (the load of bottom that observes the store synchronizes with it). The one unordered
	// case is a thief with a stale top reading a slot that the owner reuses after the ring
	// wrapped: it reads the old or the new task (a word is never torn), then loses its CAS on
	// top, which has passed that index for the owner to reuse it, and drops the value; the CAS in
	// clear only ever compares against its own task.
	relaxed.StorePointer(&r.slots[b&r.mask], t)
	// store-release: publishes the slot to thieves, which load bottom then read the slot. Also
	// ordered (seq-cst) before the sleeper-count load in Pool.notify: the parking protocol
	// relies on that (see PARKING.md).
	d.bottom.Store(b + 1)
}

// grow copies the live range [tp, b) into a ring twice as large. Owner worker only.
// Thieves still reading the old ring see the same tasks at the same indices.
func (d *deque) grow(old *ring, tp, b int64) *ring {
	r := newRing(2 * (old.mask + 1))
	for i := tp; i < b; i++ {
		r.slots[i&r.mask].Store(old.slots[i&old.mask].Load())
	}
	d.buf.Store(r) // store-release: thieves that load the new ring see the copied slots
	// A thief may have taken index i in [tp, top) while we copied, and cleared only the old
	// ring. Thieves whose CAS on top comes after this load see the new ring (its store
	// precedes the load) and clear it themselves.
	for i, now := tp, d.top.Load(); i < now; i++ { // load (seq-cst): after the ring store
		r.slots[i&r.mask].Store(nil) // index i is gone, whoever took it
	}
	return r
}

// pop removes and returns the bottom task, or nil if the deque is empty. Owner worker only.
func (d *deque) pop() *Task {
	b := d.bottom.Load() - 1
	r := d.buf.Load()
	// store then load (seq-cst, the fence of Chase-Lev): reserving slot b before reading top
	// means a concurrent thief either sees the smaller bottom or we see its larger top.
	d.bottom.Store(b)
	tp := d.top.Load()
	if tp > b { // empty
		d.bottom.Store(b + 1)
		return nil
	}
	t := r.slots[b&r.mask].Load()
	if tp == b {
		// Last element: race thieves for it with the same CAS they use.
		if !d.top.CompareAndSwap(tp, tp+1) { // CAS (seq-cst): decides the race
			t = nil // the winning thief clears the slot
		} else {
			// CAS on the slot, not a store: only the winner of index b may clear it, and a
			// thief that lost the race leaves it alone, so this cannot erase a newer task.
			r.slots[b&r.mask].CompareAndSwap(t, nil)
		}
		d.bottom.Store(b + 1)
		return t
	}
	// tp < b: no thief can reach index b, the slot is ours; clear it so the ring does not keep
	// a finished task's closure alive (a plain store, as in push: a thief that won index b one
	// ring earlier only CASes its own task out of it).
	relaxed.StorePointer(&r.slots[b&r.mask], nil)
	return t
}

// steal removes and returns the top task. Any worker other than the owner. It returns
// (nil, false) when the deque looks empty and (nil, true) when it lost a race (retry may succeed).
func (d *deque) steal() (*Task, bool) {
	tp := d.top.Load()   // load-acquire
	b := d.bottom.Load() // load-acquire: pairs with the store-release in push
	if tp >= b {
		return nil, false
	}
	r := d.buf.Load() // load-acquire: pairs with the store in grow
	t := r.slots[tp&r.mask].Load()
	// CAS (seq-cst): claims index tp; fails if the owner or another thief took it first, in which
	// case t may be stale and is dropped.
	if !d.top.CompareAndSwap(tp, tp+1) {
		return nil, true
	}
	d.clear(r, tp, t)
	return t, true
}

// clear drops the reference to t, just taken from index i, from the ring r it was read from and
// from the current ring (a grow may have copied it), so that a finished task's closure is not
// kept alive by its old slot. Thief that won index i only. A CAS, not a store: once top passed i
// the owner may reuse the slot for a newer task, which must stay; t itself cannot be pushed
// again while we hold it unrun, so a slot that still holds t holds our stale copy.
func (d *deque) clear(r *ring, i int64, t *Task) {
	r.slots[i&r.mask].CompareAndSwap(t, nil) // CAS (seq-cst): clears only our own stale entry
	if cur := d.buf.Load(); cur != r {       // load-acquire: pairs with the store in grow
		cur.slots[i&cur.mask].CompareAndSwap(t, nil)
	}
}

// size returns an estimate of the number of queued tasks. Any goroutine; may be stale.
func (d *deque) size() int64 {
	b := d.bottom.Load() // load: snapshot, no ordering needed beyond seq-cst
	tp := d.top.Load()
	if b <= tp {
		return 0
	}
	return b - tp
}
