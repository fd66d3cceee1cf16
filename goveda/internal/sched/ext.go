package sched

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// External join deques: the C ABI's veda_join without entering Go (capi.c, "the join fast path").
//
// Through cgo a veda_join from a C task costs three crossings (C->Go for the join, Go->C for
// each half): about 0.7 us per task on the peer benchmark, where oneTBB spends 0.2 us. With an
// ExtDeque, a C task that runs on worker w joins on w's own C-side deque instead:
//
//  1. the owner (C code running inside a cgo call that w's goroutine made, found through a
//     thread-local that the Go->C call installs for its duration) pushes a record {fb, cb,
//     status, state} that lives in its own C stack frame, runs fa, then pops the record back
//     and runs fb: no crossing at all;
//  2. thieves are Go workers: steal and hasWork read ExtDeques with atomics, as they read Go
//     deques, and a stolen record runs through the ExtRunner (a Go->C call) as a task of the
//     thief;
//  3. an owner whose record was stolen waits in Go (WaitExt: one C->Go call), helping as in any
//     join, until the thief marks the record done;
//  4. a worker that waits in Go inside the foreign code that pushed records (fa blocked on a
//     future, a group, a join on the Go path) takes its own records first (takeOwnExt), as it
//     would pop its own Go deque.
//
// The deque is a Chase-Lev deque (deque.go) of fixed capacity ExtCap; a full one makes the
// caller take the Go path. Join records nest as the C stack does (a join pops its record, or
// finds it stolen, before it returns). Group records (below) need not: a task may spawn into a
// group and return without waiting, leaving them on the deque. The owner's C side therefore pops
// a record only where it knows the index: a join its own (at the index it pushed, while Bottom
// is one above it), a group wait only records of its own group at the bottom; everything else
// is taken from the top (thieves, takeOwnExt), which never moves a record a join still expects.
//
// Record state word (ExtRecord.State), the Dekker pair between a parked owner and the thief:
//
//	0        pending; nobody waits
//	id+1     worker id parked waiting for it (CAS 0 -> id+1 in arm, back to 0 in disarm)
//	-1       done; its Status is final, and nobody touches the record any more
//
// The thief ends with one Swap(-1) and wakes the worker it returned (if any): a single atomic
// step, so the owner may return (and its frame, the record, vanish) the moment it sees -1.
//
// Wake-ups: after its push (a seq-cst store of Bottom) the owner loads Gate.Idle and
// Gate.Searching, which are sleepState's own counters (see Pool.notify), and calls NotifyExt only
// when a worker sleeps and none searches. A sleeper registers (Idle++) and then rechecks
// hasWork, which covers ExtDeques: PARKING.md's case A holds as for a Go push. Unlike Go's
// notify, the C side does not kick the adaptive monitor when nobody sleeps; the monitor's tick
// counts ExtDeque work as queued work.
//
// Group records (capi.c's C-side groups, "the group fast path"): a veda_group_spawn made on a
// worker pushes a record whose State is extGroupRec for its whole life. Its group (foreign
// memory) counts the records not yet finished in one word, and the runner (ExtRunner) finishes
// the record itself: it runs it, then gives the record back and decrements that count, after
// which nobody touches the record. Go only moves such a record (steal, takeOwnExt) and never
// reads its fields after the runner returned. A group's waiter waits on the group's word
// (WaitExtGroup), not on a record.
//
// Not used under a deterministic schedule (record or replay): those pools have no ExtDeques and
// every join takes the Go path.

// ExtCap is the capacity of an ExtDeque (a power of two).
const ExtCap = 256

// Record states (ExtRecord.State).
const (
	extPending int32 = 0
	extDone    int32 = -1
	// extGroupRec: a group task record (capi.c's vedac_grec, see above), never pending or done.
	extGroupRec int32 = -2
)

// ExtRecord mirrors capi.c's vedac_xrec: a join's second half, in foreign memory (the joining C
// frame). The layout is a contract with capi.c.
type ExtRecord struct {
	Fn     uintptr      // veda_task_fn; read by whoever runs the record
	Ctx    uintptr      // its argument
	Status int32        // fn's result; written by the runner before State becomes done
	State  atomic.Int32 // see the top of this file
}

// ExtDeque is one worker's deque of foreign join records. It is Go memory, pinned while its pool
// runs (New, shutdown), that capi.c uses in place (vedac_xdq; the layout is a contract, checked
// by capi's tests).
type ExtDeque struct {
	// Top: next index to steal. CAS (seq-cst) by thieves (Go) and by the owner's pop of the
	// last record (C).
	Top atomic.Int64
	_   [cacheLine - 8]byte
	// Bottom: next index to push. Stored only by the owner (C): seq-cst, as in deque.go.
	Bottom atomic.Int64
	// Executed: records the owner popped and ran itself. The owner (C) adds with a relaxed
	// read-modify-write of its own counter; Stats loads it (a snapshot, no ordering role).
	Executed atomic.Uint64
	// Gate: the address of the pool's Gate. The owner checks that a veda_join's runtime handle
	// maps to this gate (capi.c's table) before it uses the deque. Set once, before the deque is
	// handed out.
	Gate uintptr
	_    [cacheLine - 24]byte
	// Slots hold *ExtRecord (foreign addresses). The owner stores a slot before its Bottom store;
	// thieves load it after loading Bottom and keep it only if their CAS on Top succeeds.
	Slots [ExtCap]atomic.Pointer[ExtRecord]
}

// ExtRunner runs a stolen record on the calling worker: it calls rec's function from the
// foreign side with dq (the thief's own ExtDeque) installed for nested joins, and stores its
// result in rec.Status. It must not panic. Installed once per process by the foreign binding.
type ExtRunner func(rec *ExtRecord, dq *ExtDeque)

var extRun atomic.Pointer[ExtRunner] // store once by SetExtRunner; load per stolen record

// SetExtRunner installs the function that runs stolen records. Pools create ExtDeques only
// once it is set (see Options.Ext). Any goroutine.
func SetExtRunner(f ExtRunner) { extRun.Store(&f) }

// extOwners maps an ExtDeque to its worker, for WaitExt and NotifyExt (called from foreign code
// with only the deque's address). Entries are added by New and removed by shutdown.
var extOwners sync.Map // *ExtDeque -> *Worker

// CurrentExt returns the ExtDeque of the worker whose goroutine calls it, or nil (not a worker
// of p, or no ExtDeques). Any goroutine; O(Workers).
func (p *Pool) CurrentExt() *ExtDeque {
	if !p.hasExt {
		return nil
	}
	if w := p.Current(); w != nil {
		return w.ext
	}
	return nil
}

// size returns the number of records in d (<= 0: empty; an owner's pop may make it -1 for a
// moment). Any goroutine.
func (d *ExtDeque) size() int64 {
	// loads (seq-cst): pair with the owner's Bottom stores, as in deque.size.
	return d.Bottom.Load() - d.Top.Load()
}

// steal takes the oldest record, or reports (nil, true) after losing a race. Thieves only.
func (d *ExtDeque) steal() (*ExtRecord, bool) {
	t := d.Top.Load()    // load-acquire: the index we try to take
	b := d.Bottom.Load() // load-acquire: pairs with the owner's push (seq-cst store after the slot)
	if t >= b {
		return nil, false
	}
	r := d.Slots[t&(ExtCap-1)].Load()  // load: published by the Bottom store we observed
	if !d.Top.CompareAndSwap(t, t+1) { // CAS (seq-cst): another thief or the owner's pop won
		return nil, true
	}
	return r, false
}

// extJob is a stolen record run as a task of the thief. Jobs are recycled on the thief's free
// list (extFree) after they ran.
type extJob struct {
	t     Task
	rec   *ExtRecord
	group bool // rec is a group record (its State was extGroupRec when it was taken)
}

func (j *extJob) TraceName() string {
	if j.group {
		return "group"
	}
	return "join"
}

// Run calls the record's function on w (foreign side), then marks it done and wakes its owner
// if it parked; a group record the runner finishes itself. Worker only.
func (j *extJob) Run(w *Worker) {
	rec := j.rec
	j.rec = nil
	if j.group {
		(*extRun.Load())(rec, w.ext) // finishes rec: it may be reused once this returns
		w.extFree = append(w.extFree, j)
		return
	}
	(*extRun.Load())(rec, w.ext)
	// Swap (seq-cst): publishes Status (release) and, in one step, reads whether the owner
	// parked (the other half of arm's CAS). rec may be gone right after it: not touched again.
	if old := rec.State.Swap(extDone); old > 0 {
		if id := int(old - 1); id < len(w.p.workers) {
			w.p.workers[id].wake()
		}
	}
	w.extFree = append(w.extFree, j) // t.Done is set by execute after Run; reset on reuse
}

// stealExt tries v's ExtDeque once (retrying lost races) and wraps a stolen record in a task.
// Owner (w) only.
func (w *Worker) stealExt(v *Worker) *Task {
	if v.ext == nil {
		return nil
	}
	r := v.ext.take()
	if r == nil {
		return nil
	}
	w.st.stolen++
	w.src = v.id
	w.traceSteal(v)
	return w.extTask(r)
}

// takeOwnExt takes the oldest record of w's own ExtDeque, for a worker that waits in Go (a
// future, a group, a join on the Go path) inside the foreign code that pushed it: the record's
// frame is below on this thread's stack, so it can run nothing else meanwhile, and with no other
// worker free the record would never run and the wait would spin (hasWork sees the record) or
// never end (found by review: fa waiting for a task that fb unblocks). Taking it from the top
// with the thieves' CAS leaves the foreign pop to find it taken (top > its index) and done. Owner
// only; nil when the deque is empty, as it always is outside foreign frames.
func (w *Worker) takeOwnExt() *Task {
	r := w.ext.take()
	if r == nil {
		return nil
	}
	w.src = FromOwn
	return w.extTask(r)
}

// take steals d's oldest record, retrying lost races; nil when d is empty. Any worker.
func (d *ExtDeque) take() *ExtRecord {
	for {
		r, retry := d.steal()
		if r != nil || !retry {
			return r
		}
	}
}

// extTask wraps r in a task from w's free list. Owner (w) only.
func (w *Worker) extTask(r *ExtRecord) *Task {
	var j *extJob
	if n := len(w.extFree); n > 0 {
		j = w.extFree[n-1]
		w.extFree[n-1] = nil
		w.extFree = w.extFree[:n-1]
		j.t.Done.Reset()
	} else {
		j = &extJob{}
		j.t.Job = j
	}
	j.rec = r
	// load (seq-cst): a taken record is live until it ran (a join's frame waits for it, a group
	// record's group counts it), and a group record's State never changes.
	j.group = r.State.Load() == extGroupRec
	return &j.t
}

// RunExt runs rec, a group record that foreign code handed to the pool as a task (goveda's
// ForeignGroupSpawn: a spawn from a thread that is not one of the pool's workers, or one whose
// deque was full), on w with the runner, which finishes it. Worker w only.
func (w *Worker) RunExt(rec *ExtRecord) { (*extRun.Load())(rec, w.ext) }

// extCond is a record as a waitCond (waitSlow, fallAsleep). One pointer: converting it to the
// interface allocates nothing.
type extCond struct{ r *ExtRecord }

func (c extCond) Probe() bool { return c.r.State.Load() == extDone } // load (seq-cst): pairs with the thief's Swap

// arm: CAS (seq-cst) 0 -> id+1, the waiter's half of the Dekker pair with the thief's Swap.
// It fails only when the record is done (arm/disarm pair up), which Probe then sees.
func (c extCond) arm(w *Worker) { c.r.State.CompareAndSwap(extPending, int32(w.id)+1) }

// disarm: CAS (seq-cst) id+1 -> 0; fails when the thief finished meanwhile (state -1 stays).
func (c extCond) disarm(w *Worker) { c.r.State.CompareAndSwap(int32(w.id)+1, extPending) }

// WaitExt blocks until rec, pushed on d by d's worker and stolen since, is done; the worker
// helps meanwhile (runs other tasks), as in a join whose task was stolen. Called by foreign code
// on d's worker goroutine (inside a cgo call that goroutine made). A d that is not a live
// pool's deque (never the case while its pool runs) waits without helping.
func WaitExt(d *ExtDeque, rec *ExtRecord) {
	v, ok := extOwners.Load(d)
	if !ok {
		for rec.State.Load() != extDone { // load (seq-cst): see extCond.Probe
			spinPause(16)
		}
		return
	}
	v.(*Worker).waitFor(extCond{rec})
}

// NotifyExt wakes a sleeping worker of d's pool for a record just pushed on d (Pool.notify).
// Called by foreign code when it saw a sleeper and no searcher. Any goroutine.
func NotifyExt(d *ExtDeque) {
	if v, ok := extOwners.Load(d); ok {
		v.(*Worker).p.notify()
	}
}

// Group words. A C-side group counts its unfinished records in one 64-bit word (foreign memory):
//
//	tag<<42 | pending<<ExtGroupShift | waiter   (pending: ExtGroupPendingBits wide)
//
// tag is the foreign side's (the generation of the group whose spawns the word counts); Go
// never changes it.
// waiter: 0 nobody waits; id+1 worker id parked in a wait (groupCond); ExtGroupOutside a
// goroutine that is not a worker, blocked in WaitExtGroup. The foreign side adds 1<<ExtGroupShift
// per spawn and subtracts it when a record finished (seq-cst read-modify-writes); the one that
// brings pending to 0 reads the waiter from the value it replaced and wakes it (WakeExtGroup),
// without touching the group again: the Dekker pair with the waiter's arm (a CAS on the same
// word, before it rechecks pending).
const (
	ExtGroupShift       = 16
	ExtGroupPendingBits = 26
	ExtGroupOutside     = 1<<ExtGroupShift - 1
	extWaiterMask       = ExtGroupOutside
	extPendingMask      = 1<<ExtGroupPendingBits - 1
)

// extGroupWaiters: the channel of the goroutine outside the workers that waits on a group word
// (ExtGroupOutside), keyed by the word's address; WakeExtGroup sends on it. The group's C side
// lets one wait run at a time, so there is at most one entry per word.
var extGroupWaiters sync.Map // *atomic.Uint64 -> chan struct{}

func groupPending(word *atomic.Uint64) uint64 { return pendingOf(word.Load()) } // load (seq-cst)

func pendingOf(w uint64) uint64 { return w >> ExtGroupShift & extPendingMask }

// armGroup sets word's waiter to me unless nothing is pending (or a waiter is set: never ours
// twice, since arm and disarm pair up). CAS (seq-cst): see the group words above.
func armGroup(word *atomic.Uint64, me uint64) {
	for {
		old := word.Load()
		if pendingOf(old) == 0 || old&extWaiterMask != 0 {
			return
		}
		if word.CompareAndSwap(old, old|me) {
			return
		}
	}
}

// disarmGroup clears word's waiter if it is me. CAS (seq-cst).
func disarmGroup(word *atomic.Uint64, me uint64) {
	for {
		old := word.Load()
		if old&extWaiterMask != me {
			return
		}
		if word.CompareAndSwap(old, old&^extWaiterMask) {
			return
		}
	}
}

// groupCond is a group word as a waitCond (waitSlow, fallAsleep). One pointer: converting it to
// the interface allocates nothing.
type groupCond struct{ word *atomic.Uint64 }

func (c groupCond) Probe() bool      { return groupPending(c.word) == 0 }
func (c groupCond) arm(w *Worker)    { armGroup(c.word, uint64(w.id)+1) }
func (c groupCond) disarm(w *Worker) { disarmGroup(c.word, uint64(w.id)+1) }

// WaitExtGroup returns when word's pending count is 0. d is a deque of the group's pool; own
// says it is the calling worker's own (the caller is foreign code on d's worker). A worker of
// the pool helps meanwhile (runs other tasks, parks armed on the word); any other goroutine
// blocks (lending an inline slot it holds). With poll (another wait of the same group is in
// progress, so the waiter field is taken) it does not arm: a worker helps and sleeps briefly
// between tries, any other goroutine sleeps between checks. Foreign code only.
func WaitExtGroup(d *ExtDeque, own bool, word *atomic.Uint64, poll bool) {
	v, ok := extOwners.Load(d)
	if !ok { // not a live pool's deque: its pool finished, so nothing of it is left to run (a
		// racing spawn that backs off may still hold a unit for a moment)
		pollGroupOutside(word)
		return
	}
	w := v.(*Worker)
	p := w.p
	if !own {
		w = p.Current()
	}
	switch {
	case w != nil && poll:
		for groupPending(word) != 0 {
			if t := w.findWork(); t != nil {
				w.execute(t)
			} else {
				time.Sleep(20 * time.Microsecond)
			}
		}
	case w != nil:
		w.waitFor(groupCond{word})
	case poll:
		p.WaitOutside(func() { pollGroupOutside(word) })
	default:
		p.WaitOutside(func() { waitGroupOutside(word) })
	}
}

// waitGroupOutside blocks a goroutine that is not a worker until word's pending count is 0:
// a short spin, then armed on the word with a channel WakeExtGroup sends on.
func waitGroupOutside(word *atomic.Uint64) {
	for i := 0; i < 32; i++ {
		if groupPending(word) == 0 {
			return
		}
		spinPause(i)
	}
	ch := make(chan struct{}, 1)
	extGroupWaiters.Store(word, ch) // before arming: a waker that sees the waiter finds ch
	armGroup(word, ExtGroupOutside)
	for groupPending(word) != 0 {
		<-ch
	}
	disarmGroup(word, ExtGroupOutside)
	extGroupWaiters.CompareAndDelete(word, ch) // only our own entry
}

func pollGroupOutside(word *atomic.Uint64) {
	for groupPending(word) != 0 {
		time.Sleep(20 * time.Microsecond)
	}
}

// WakeExtGroup wakes the waiter that the last finished record of word's group read (waiter as
// in the group words above); d is a deque of the group's pool. word is only a key here: the
// group may be gone. Foreign code, any thread.
func WakeExtGroup(d *ExtDeque, waiter uint64, word *atomic.Uint64) {
	if waiter == ExtGroupOutside {
		if ch, ok := extGroupWaiters.Load(word); ok {
			select {
			case ch.(chan struct{}) <- struct{}{}:
			default:
			}
		}
		return
	}
	if v, ok := extOwners.Load(d); ok {
		if p := v.(*Worker).p; waiter >= 1 && int(waiter-1) < len(p.workers) {
			p.workers[waiter-1].wake()
		}
	}
}

// ExtGroupRec returns the State of a group record, for bindings that check their mirror.
func ExtGroupRec() int32 { return extGroupRec }

// ExtDequeLayout returns the offsets of Top, Bottom, Executed, Gate and Slots in ExtDeque and
// its size, then the offsets of Fn, Ctx, Status and State in ExtRecord and its size, for
// bindings that check their mirrors.
func ExtDequeLayout() [11]uintptr {
	var d ExtDeque
	var r ExtRecord
	return [11]uintptr{unsafe.Offsetof(d.Top), unsafe.Offsetof(d.Bottom), unsafe.Offsetof(d.Executed),
		unsafe.Offsetof(d.Gate), unsafe.Offsetof(d.Slots), unsafe.Sizeof(d),
		unsafe.Offsetof(r.Fn), unsafe.Offsetof(r.Ctx), unsafe.Offsetof(r.Status), unsafe.Offsetof(r.State),
		unsafe.Sizeof(r)}
}
