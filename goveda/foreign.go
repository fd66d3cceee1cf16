package goveda

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// ForeignGate is a runtime's execution-slot gate, handed to foreign code that runs a one-chunk
// loop on its own thread without entering Go (the C ABI's veda_parallel_for, capi.c). Entering
// Go from a C thread costs about 2 us with warm caches and 9-15 us with cold ones (a Python
// caller); a one-chunk oneTBB parallel_for costs about 0.5 us. With the gate, the C caller takes
// one of the pool's Workers execution slots exactly as an inline Go caller does
// (sched/inline.go), so Workers stays a hard cap on bodies that run at once, Close waits for
// such runs, and they count in Stats.Executed.
//
// The gate's memory is pinned for the life of the process (a few dozen bytes per runtime that
// asked for it), so foreign code may keep its address after the runtime closed: it then finds
// Closed set and takes its ordinary path. Its layout (seven words: Avail, Waiters, Closed,
// Foreign int32, Inlined uint64, then the parking lot's Idle and Searching int32) is a contract
// with capi.c, checked by capi's tests.
//
// Layering: the protocol (which slot rule, when to back off) is the scheduler's (sched.Gate);
// foreign code only follows it. Who may call: any goroutine.
type ForeignGate struct {
	rt *Runtime
}

var (
	gateMu      sync.Mutex
	gatePinners []*runtime.Pinner           // never unpinned: foreign code may hold a gate's address forever
	gatePinned  = map[unsafe.Pointer]bool{} // gates already pinned
)

// ForeignGate returns rt's gate, pinning its memory on first use. Any goroutine.
func (rt *Runtime) ForeignGate() *ForeignGate {
	gateMu.Lock()
	defer gateMu.Unlock()
	if g := unsafe.Pointer(rt.pool.Gate()); !gatePinned[g] {
		var pn runtime.Pinner
		pn.Pin(rt.pool.Gate())
		gatePinners = append(gatePinners, &pn)
		gatePinned[g] = true
	}
	return &ForeignGate{rt: rt}
}

// Addr returns the gate's address (valid for the life of the process).
func (g *ForeignGate) Addr() unsafe.Pointer { return unsafe.Pointer(g.rt.pool.Gate()) }

// Wake wakes one goroutine waiting for a slot. Foreign code calls it when, after giving its slot
// back, it saw Waiters > 0.
func (g *ForeignGate) Wake() { g.rt.pool.WakeSlot() }

// SetHolder installs holds, which reports whether the calling goroutine's thread is inside a
// foreign inline run of this runtime (so holds a slot). A nested blocking call from such a run
// then lends the slot to the workers while it waits, as an inline Go caller does; without it,
// Workers == 1 would deadlock. holds must be cheap and must not call into the runtime.
func (g *ForeignGate) SetHolder(holds func() bool) { g.rt.pool.SetForeignHolder(holds) }

// ForeignGateLayout returns the byte offsets of the gate's words (Avail, Waiters, Closed,
// Foreign, Inlined, Idle, Searching) and its size, for bindings that check their mirror of it.
func ForeignGateLayout() [8]uintptr {
	var g sched.Gate
	return [8]uintptr{unsafe.Offsetof(g.Avail), unsafe.Offsetof(g.Waiters), unsafe.Offsetof(g.Closed),
		unsafe.Offsetof(g.Foreign), unsafe.Offsetof(g.Inlined), unsafe.Offsetof(g.Idle),
		unsafe.Offsetof(g.Searching), unsafe.Sizeof(g)}
}

// Foreign joins: the C ABI's veda_join without entering Go (capi.c, "the join fast path";
// the protocol is the scheduler's, sched/ext.go). A runtime whose bodies are cgo calls
// (Config.CgoBodies) gives each worker a deque of foreign join records once a runner was
// installed (SetForeignJoinRunner). While a worker calls foreign code, the binding hands that
// code the worker's deque (ForeignJoinDeque), and a join made there pushes its second half on
// it, runs the first, and pops the second back: no crossing. Workers that run out of work steal
// records from these deques as from their own, and run them with the runner. The deque's
// address is valid while its runtime is open; foreign code keeps it only for the duration of
// the call that handed it over (the Go scheduler never moves it).

// SetForeignJoinRunner installs run, which calls a stolen record's function on the calling
// worker with dq (that worker's deque) handed to it, and stores the function's result in the
// record. It must not panic. Runtimes created afterwards have join deques. Any goroutine; the
// binding calls it once, at load.
func SetForeignJoinRunner(run func(rec, dq unsafe.Pointer)) {
	sched.SetExtRunner(func(rec *sched.ExtRecord, dq *sched.ExtDeque) {
		run(unsafe.Pointer(rec), unsafe.Pointer(dq))
	})
}

// ForeignJoinDeque returns the join deque of the worker that calls it, for the foreign code it
// is about to call; nil when the caller is not one of rt's workers or rt has no join deques.
// Any goroutine; O(Workers).
func (rt *Runtime) ForeignJoinDeque() unsafe.Pointer { return unsafe.Pointer(rt.pool.CurrentExt()) }

// ForeignJoinWait returns when rec (pushed on dq by dq's worker, then stolen) is done; the worker
// runs other tasks meanwhile. Foreign code on dq's worker only (inside a call that handed it dq).
func ForeignJoinWait(dq, rec unsafe.Pointer) {
	sched.WaitExt((*sched.ExtDeque)(dq), (*sched.ExtRecord)(rec))
}

// ForeignJoinNotify wakes a sleeping worker for a record just pushed on dq. Foreign code calls it
// after a push that found a sleeper and no searcher in the pool's gate. Any goroutine.
func ForeignJoinNotify(dq unsafe.Pointer) { sched.NotifyExt((*sched.ExtDeque)(dq)) }

// ForeignJoinLayout returns the layout that foreign code mirrors: the offsets of a join deque's
// Top, Bottom, Executed, Gate and Slots words and its size, then a record's Fn, Ctx, Status and
// State offsets and its size (see sched.ExtDequeLayout); then ExtCap. (The gate words the join
// reads are in ForeignGateLayout.)
func ForeignJoinLayout() [12]uintptr {
	l := sched.ExtDequeLayout()
	var out [12]uintptr
	copy(out[:], l[:])
	out[11] = sched.ExtCap
	return out
}

// Foreign groups: the C ABI's veda_group made inside a C task that a worker runs lives in
// foreign memory (capi.c, "the group fast path"), and its spawns push group records on the
// worker's join deque: no crossing into Go per group or per task (through Go a group per call
// costs five, about 3.5 us per task). The group counts its unfinished records in one word (the
// protocol is the scheduler's, sched/ext.go "Group words"); these functions are the few steps
// that need Go: waiting for a word once nothing is left to pop, waking the waiter, and spawning
// from a thread that has no deque of the pool.

// ForeignGroupWait returns when the group word at word (pending<<ForeignGroupShift | waiter)
// has no pending record. dq is a deque of the group's pool; own says it is the calling worker's
// own (the caller is foreign code inside a call that handed it dq). A worker of the pool runs
// other tasks meanwhile; any other caller blocks. poll: another wait of the group is in
// progress (it holds the waiter field), so this one checks the word between tries instead of
// arming it. Foreign code only.
func ForeignGroupWait(dq, word unsafe.Pointer, own, poll bool) {
	sched.WaitExtGroup((*sched.ExtDeque)(dq), own, (*atomic.Uint64)(word), poll)
}

// ForeignGroupWake wakes the waiter that a group's last finished record read from the word at
// word (gone already, perhaps: the address is only a key); dq is a deque of the group's pool.
// Foreign code, any thread.
func ForeignGroupWake(dq unsafe.Pointer, waiter uint64, word unsafe.Pointer) {
	sched.WakeExtGroup((*sched.ExtDeque)(dq), waiter, (*atomic.Uint64)(word))
}

// ForeignGroupShift, ForeignGroupPendingBits and ForeignGroupOutside are the group word's
// layout: the pending count (ForeignGroupPendingBits wide) above bit ForeignGroupShift, and the
// waiter value of a waiter that is not a worker. The bits above the count are the foreign
// side's.
const (
	ForeignGroupShift       = sched.ExtGroupShift
	ForeignGroupPendingBits = sched.ExtGroupPendingBits
	ForeignGroupOutside     = sched.ExtGroupOutside
)

// ForeignGroupRecordState is the State word of every group record (the runner finishes such a
// record itself; see SetForeignJoinRunner).
func ForeignGroupRecordState() int32 { return sched.ExtGroupRec() }

// foreignRecJob runs a group record handed over by ForeignGroupSpawn.
type foreignRecJob struct {
	t   sched.Task
	rt  *Runtime
	rec *sched.ExtRecord
}

func (j *foreignRecJob) Run(w *sched.Worker) {
	w.RunExt(j.rec) // finishes the record: nobody touches it afterwards
	j.rt.exit()
}

func (j *foreignRecJob) TraceName() string { return "group" }

// ForeignGroupSpawn runs the group record rec (counted in its group already) as a task of rt:
// for a spawn made on a thread that has no usable deque of rt (a thread outside the workers,
// a worker of another runtime, a full deque). From one of rt's workers it goes on that worker's
// deque, else through the injector. ErrClosed once rt closes (the caller then uncounts rec).
// Any goroutine.
func (rt *Runtime) ForeignGroupSpawn(rec unsafe.Pointer) error {
	w := rt.current()
	if w != nil {
		rt.pool.EnterNested() // from a task: admitted even while the runtime closes, as Spawn
	} else if err := rt.enter(); err != nil {
		return err
	}
	j := &foreignRecJob{rt: rt, rec: (*sched.ExtRecord)(rec)}
	j.t.Job = j
	if w != nil {
		w.Push(&j.t)
	} else {
		rt.pool.Inject(&j.t, int(PriorityNormal), 0)
	}
	return nil
}
