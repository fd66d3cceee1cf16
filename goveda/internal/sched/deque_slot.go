//go:build !race

package sched

import (
	"sync/atomic"
	"unsafe"
)

// storeSlot writes t into a ring slot with a plain store: the owner's push (and its clear of a
// popped slot) is ordered for thieves by the seq-cst store of bottom that follows it or precedes
// it, not by the slot's own store. A push writes the slot, then stores bottom; a thief loads
// bottom, then the slot: the slot write happens before the thief's load (Go memory model: the
// load of bottom that observes the store synchronizes with it). The one unordered case is a
// thief with a stale top reading a slot the owner is reusing after the ring wrapped. It reads
// the old or the new task (a word-sized access, never torn), and then loses its CAS on top,
// since top has passed that index for the owner to reuse the slot, so it drops the value; the
// CAS in deque.clear likewise only ever compares against its own task. The store still gets the
// GC write barrier (a pointer store through *unsafe.Pointer). Measured: an atomic pointer store
// is an XCHG, about 9 ns here; two of them (push and the pop's clear) are a tenth of a Join's
// overhead. Race-detector builds use the atomic store (deque_slot_race.go), so that the stale
// thief's read, a benign race, is not reported. Owner worker only.
func storeSlot(s *atomic.Pointer[Task], t *Task) {
	*(*unsafe.Pointer)(unsafe.Pointer(s)) = unsafe.Pointer(t)
}

// atomic.Pointer[T] must be exactly its one pointer word for storeSlot's cast (its other fields
// take no space): a compile error here means the layout changed.
var _ [unsafe.Sizeof(atomic.Pointer[Task]{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
var _ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(atomic.Pointer[Task]{})]struct{}
