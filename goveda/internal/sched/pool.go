package sched

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// Options configures New. goveda derives them from its Config and Policy.
type Options struct {
	Workers int // number of worker goroutines, >= 1
	Spin    int // spin rounds in the idle loop before a worker parks
	// SpinFor makes an idle worker spin at least this long after Spin rounds before it parks
	// (0: Spin rounds only). Waking a parked thread costs 0.1-2 ms on a virtual machine whose
	// idle vCPU halts; back-to-back loops then find their workers awake.
	SpinFor  time.Duration
	Adaptive bool // run the adaptive monitor (active workers follow utilization; adaptive.go)
	// GrowOnPush (with Adaptive): a push or inject that no active worker is free to take raises
	// the active count by one at once, instead of at the monitor's next tick (adaptive.go).
	GrowOnPush bool
	Clocks     bool   // account busy/idle time per worker (needed by Adaptive)
	Latency    bool   // keep per-worker latency histograms of injected tasks
	Seed       uint64 // victim-choice seed
	Pin        bool   // pin each worker to one CPU (LockOSThread + sched_setaffinity)
	// Yield makes each worker pass through the Go scheduler at least every yieldEvery of
	// running (yield.go): for pools whose task bodies are cgo calls.
	Yield bool
	// Ext gives each worker an ExtDeque for foreign joins (ext.go), once SetExtRunner was
	// called; ignored under a deterministic schedule.
	Ext bool

	// NUMA placement (numa.go). Nodes[i] is worker i's NUMA node (an index; nil: one node) and
	// CPUs[i] the CPU it is pinned to with Pin (nil: the allowed CPUs round-robin). With more
	// than one node, stealing is hierarchical: same-node victims first, remote ones only after
	// LocalRounds failed passes over the local ones (default 2).
	Nodes       []int
	CPUs        []int
	LocalRounds int

	// Deterministic record and replay (schedule.go): RecordSchedule logs which worker ran which
	// task; ReplaySchedule forces a recorded schedule (its worker count must match).
	RecordSchedule bool
	ReplaySchedule *Schedule

	// OnResize, when set, is told every change of the active-worker count with its reason
	// ("utilization 12% < 30% for 5 ticks", "energy cap 2: power 61 W > budget 50 W"), in the
	// order of the changes. It is called from the monitor goroutine or, with GrowOnPush, from a
	// goroutine that pushed a task, one call at a time, and must not block or call into the pool.
	OnResize func(from, to int, reason string)
}

// Pool is the work-stealing pool: Workers goroutines with Chase-Lev deques, an injector for
// outside work, the parking lot and the admission count that Close drains. Only its workers
// run task bodies, so Workers is a hard cap on bodies running at once. All methods may be called
// from any goroutine unless stated.
type Pool struct {
	workers []*Worker
	inj     injector
	sleep   sleepState

	active atomic.Int32 // adaptive limit: workers with id >= active suspend; store by monitor, load by workers
	// waking counts workers that a growth woke and that have not yet started to search (or
	// suspended again): Worker.woken set. growOnPush does not grow while it is non-zero, since
	// such a worker is about to take queued work but is neither a registered sleeper nor a
	// searcher yet (as Go's scheduler starts no second M while one is spinning up). Add by
	// resize for each worker whose woken it set, add(-1) by the worker that clears it (the two
	// may cross, so it can read -1 for a moment). A worker that a growth "woke" while it was
	// still running a task keeps its count until it next looks for work; pushes meanwhile kick
	// the monitor, which grows at its next tick as before GrowOnPush.
	waking   atomic.Int32
	inflight atomic.Int64 // admitted units (Enter) not yet finished; seq-cst (see Enter/Close)
	closed   atomic.Bool  // no new outside work; seq-cst store in Close, load in Enter
	stopping atomic.Bool  // all work drained, workers exit; store by shutdown, load by workers

	drained   chan struct{} // capacity 1: a token when inflight reaches 0 after closed
	closeMu   sync.Mutex
	closing   bool          // guarded by closeMu
	closeDone chan struct{} // closed when shutdown finished
	wg        sync.WaitGroup

	spin    int    // spin rounds before parking
	spinFor int64  // and at least this long (ns), see Options.SpinFor
	clocks  bool   // busy/idle clocks on
	latency bool   // latency histograms on
	pin     bool   // pin workers
	yield   bool   // workers reschedule every yieldEvery (yield.go)
	grow    bool   // Options.GrowOnPush (with a monitor only)
	seed    uint64 // victim-choice seed
	base    time.Time

	holdMu  sync.Mutex
	holders map[uintptr]int32 // getg key -> admissions held by that goroutine (EnterHeld); guarded by holdMu

	panicked  atomic.Uint64 // task panics recovered (NotePanic); add only
	submitted atomic.Uint64 // tasks injected; add only

	mon *monitor // adaptive policy, or nil

	hasExt       bool                        // workers have ExtDeques (ext.go); fixed at New
	extPin       runtime.Pinner              // pins the ExtDeques; New and shutdown only
	gate         *Gate                       // execution slots (inline.go): Workers minus awake workers and inline runs
	slotWake     chan struct{}               // wake tokens for goroutines waiting for a slot (inline.go)
	foreignHolds atomic.Pointer[func() bool] // SetForeignHolder's check, or nil
	inliners     []atomic.Uintptr            // goroutines running inline (inline.go); CAS to claim, 0 = free
	// RunInSlot callers that found every inliners entry taken (inline.go); guarded by inlineMu,
	// extraN counts them so isInliner looks only while it is non-zero.
	inlineMu    sync.Mutex
	inlineExtra map[uintptr]int
	extraN      atomic.Int32
	inlined     atomic.Uint64 // inline runs finished; add only

	tr atomic.Pointer[trace.Recorder] // the running trace, or nil (trace.go)

	det *detState // schedule record/replay (schedule.go), or nil; set in New, read-only pointer

	numa numaState // node groups for hierarchical stealing (numa.go); read-only after New

	// wcap is an external cap on active workers (SetCap; 0 = none). Store by SetCap, load by
	// the monitor: a plain value hand-off, the reason travels under capMu.
	wcap      atomic.Int32
	capMu     sync.Mutex
	capReason string // guarded by capMu
	// resizeMu serializes resize: the active count's change and its report (cap.go).
	resizeMu sync.Mutex
	onResize func(from, to int, reason string)

	// rootShort: the last RunRoot job finished within rootSpin, so the next caller spins before
	// it blocks (rootWait). Store by RunRoot after each job, load by the next: a hint only.
	rootShort atomic.Bool
}

// New creates a pool and starts its workers. It fails only when pinning fails (Options.Pin); the
// error then joins each worker's pinning error. Cost: starts Workers goroutines (tens of
// microseconds).
func New(o Options) (*Pool, error) {
	if o.Workers < 1 {
		o.Workers = 1
	}
	det, err := newDet(o)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		drained:   make(chan struct{}, 1),
		closeDone: make(chan struct{}),
		base:      time.Now(),
		spin:      o.Spin,
		spinFor:   int64(o.SpinFor),
		clocks:    o.Clocks || o.Adaptive,
		latency:   o.Latency,
		pin:       o.Pin,
		yield:     o.Yield,
		seed:      o.Seed,
		holders:   map[uintptr]int32{},
		onResize:  o.OnResize,
		det:       det,
	}
	p.inj.agingStep = defaultAgingStep
	p.active.Store(int32(o.Workers))
	p.workers = make([]*Worker, o.Workers)
	for i := range p.workers {
		p.workers[i] = newWorker(p, i)
	}
	p.initNUMA(o)
	p.slotInit()
	p.sleep.idle, p.sleep.searching = &p.gate.Idle, &p.gate.Searching
	if o.Ext && det == nil && extRun.Load() != nil {
		p.hasExt = true
		for _, w := range p.workers {
			w.ext = &ExtDeque{Gate: uintptr(unsafe.Pointer(p.gate))}
			p.extPin.Pin(w.ext) // foreign code uses it in place while the pool runs
			extOwners.Store(w.ext, w)
		}
	}
	ready := make(chan error, o.Workers)
	p.wg.Add(o.Workers)
	for _, w := range p.workers {
		go w.main(ready)
	}
	var errs []error
	for range p.workers {
		if err := <-ready; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		p.closing = true
		p.closed.Store(true)
		p.shutdown()
		return nil, errors.Join(errs...)
	}
	if o.Adaptive && o.Workers > 1 {
		p.grow = o.GrowOnPush
		p.mon = startMonitor(p)
	}
	if det != nil && det.replay != nil {
		go p.watchdog()
	}
	return p, nil
}

// SetAgingStep sets the wait (ns) that promotes a queued task by one level (default 5 ms). Tests
// only, before any Inject.
func (p *Pool) SetAgingStep(ns int64) { p.inj.agingStep = ns }

// Close stops admitting outside work, waits for every admitted unit (Enter) and everything it
// spawned, and stops the workers. It reports whether this call was the first: later calls wait
// for the first to finish (unless made from a task) and return false. Called from one of p's own
// tasks, Close cannot wait for itself: it starts the shutdown and returns at once.
func (p *Pool) Close() bool {
	p.closeMu.Lock()
	if p.closing {
		p.closeMu.Unlock()
		if p.Current() == nil {
			<-p.closeDone
		}
		return false
	}
	p.closing = true
	p.closeMu.Unlock()
	// store (seq-cst): pairs with a foreign inline caller's Foreign add then Closed load (inline.go).
	p.gate.Closed.Store(1)
	// store (seq-cst): pairs with Enter's inflight.Add then closed.Load; see Enter.
	p.closed.Store(true)
	if p.Current() != nil {
		go p.shutdown()
		return true
	}
	p.shutdown()
	return true
}

// Closed reports whether Close was called. Never spuriously true.
func (p *Pool) Closed() bool { return p.closed.Load() } // load (seq-cst): see Close

// shutdown waits for inflight to drain, then stops and joins the workers.
func (p *Pool) shutdown() {
	for p.inflight.Load() != 0 { // load (seq-cst): see Exit
		<-p.drained
	}
	p.waitForeign()
	p.stopping.Store(true) // store (seq-cst): workers load it before parking (fallAsleep recheck)
	p.stopDet()
	if p.mon != nil {
		p.mon.stop()
	}
	for _, w := range p.workers {
		w.wake()
	}
	p.wg.Wait()
	for _, w := range p.workers {
		if w.ext != nil {
			extOwners.Delete(w.ext)
		}
	}
	p.extPin.Unpin() // no foreign frame of this pool is left
	close(p.closeDone)
}

// Workers returns the number of workers.
func (p *Pool) Workers() int { return len(p.workers) }

// Active returns how many workers the adaptive monitor lets take work (Workers without it). A
// snapshot.
func (p *Pool) Active() int { return int(p.active.Load()) } // load: snapshot

// Now returns monotonic nanoseconds since the pool started.
func (p *Pool) Now() int64 { return p.now() }

func (p *Pool) now() int64 { return int64(time.Since(p.base)) }

// Current returns the worker of p that the calling goroutine is, or nil.
// Cost: one getg plus a scan of the workers (a few ns for small pools).
func (p *Pool) Current() *Worker {
	g := getg()
	for _, w := range p.workers {
		if w.gid.Load() == g { // load: identity compare only
			return w
		}
	}
	return nil
}

// hasWork reports whether any queue looks non-empty. Used by recheck paths.
func (p *Pool) hasWork() bool {
	if p.inj.len() > 0 { // load (seq-cst): pairs with the add in injector.push
		return true
	}
	for _, w := range p.workers {
		if w.dq.size() > 0 { // loads (seq-cst): pair with the bottom store in deque.push
			return true
		}
		if w.ext != nil && w.ext.size() > 0 { // loads (seq-cst): pair with the foreign push (ext.go)
			return true
		}
	}
	return false
}

// Inject queues t at level (0 <= level < Levels; 0 first) with an optional deadline (unix ns,
// 0 = none; earliest first within a level) and wakes a worker if needed. O(log n) under a mutex.
func (p *Pool) Inject(t *Task, level int, deadline int64) {
	p.submitted.Add(1) // atomic add: counter only
	if p.det != nil {
		p.assignID(p.Current(), t)
		if p.det.replaying() && p.register(t) {
			return
		}
	}
	p.inj.push(t, level, deadline, p.now())
	p.notify()
	if p.mon != nil {
		p.mon.kick()
	}
}

// popInjected takes the next injected task, or nil. Worker only.
func (p *Pool) popInjected() *Task {
	e, ok := p.inj.pop()
	if !ok {
		return nil
	}
	return e.t
}

// NotePanic counts one recovered task panic (Stats.Panicked).
func (p *Pool) NotePanic() { p.panicked.Add(1) } // atomic add: a plain counter, no ordering role

// rootJob runs fn on a worker for a caller outside the pool, which blocks on done.
type rootJob struct {
	t    Task
	fn   func(w *Worker)
	enq  int64
	done chan struct{}
}

// TraceName names the job's slice in a trace: a call from outside the pool.
func (j *rootJob) TraceName() string { return "call" }

func (j *rootJob) Run(w *Worker) {
	defer close(j.done)
	w.RecordWait(j.enq)
	j.fn(w)
	w.RecordLatency(j.enq)
}

// RunRoot runs fn on a worker at level and blocks until it returns; fn must not panic (callers
// recover user code). It reports false, without running fn, after Close. Outside goroutines only
// (workers call fn directly).
func (p *Pool) RunRoot(level int, fn func(w *Worker)) bool {
	if !p.Enter() {
		return false
	}
	j := &rootJob{fn: fn, done: make(chan struct{}), enq: p.now()}
	j.t.Job = j
	if p.holdsSlot(getg()) {
		// Nested in an inline run: give its slot to the workers while we wait (inline.go, 3).
		p.releaseSlotWord()
		defer p.acquireWait()
	}
	p.Inject(&j.t, level, 0)
	rootWait(j.done, p.rootShort.Load())               // load: a hint, no ordering role
	p.rootShort.Store(p.now()-j.enq < int64(rootSpin)) // store: a hint for the next call
	p.Exit()
	return true
}

// rootSpin bounds how long an outside caller polls for its job before blocking.
const rootSpin = 50 * time.Microsecond

// rootWait waits for done: with spin, it polls for up to rootSpin (a busy pause between polls)
// and then blocks; without, it blocks at once. A short job (one chunk) usually finishes within
// the spin, which saves the wake-up of a blocked caller; for callers from C that is a thread
// handoff, because a cgo callback's goroutine is locked to its thread. RunRoot spins only when
// the pool's previous root job was that short (Pool.rootShort): the caller of a long loop would
// otherwise compete for a core with the workers it just woke (measured: 3% of a 22 ms nqueens
// loop on 2 cores). The pause does not yield the P: for a locked goroutine a runtime.Gosched is
// itself such a handoff (two thread switches). Any outside goroutine.
func rootWait(done <-chan struct{}, spin bool) {
	if !spin {
		<-done
		return
	}
	start := time.Now()
	for {
		select {
		case <-done:
			return
		default:
		}
		if time.Since(start) > rootSpin {
			<-done
			return
		}
		spinPause(16)
	}
}

// Queued returns the number of tasks waiting in the injector. A snapshot.
func (p *Pool) Queued() int64 { return p.inj.len() }
