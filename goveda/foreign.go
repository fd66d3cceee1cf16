package goveda

import (
	"runtime"
	"sync"
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
// Closed set and takes its ordinary path. Its layout (five words: Avail, Waiters, Closed,
// Foreign int32 and Inlined uint64) is a contract with capi.c, checked by capi's tests.
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
// Foreign, Inlined) and its size, for bindings that check their mirror of it.
func ForeignGateLayout() [6]uintptr {
	var g sched.Gate
	return [6]uintptr{unsafe.Offsetof(g.Avail), unsafe.Offsetof(g.Waiters), unsafe.Offsetof(g.Closed),
		unsafe.Offsetof(g.Foreign), unsafe.Offsetof(g.Inlined), unsafe.Sizeof(g)}
}
