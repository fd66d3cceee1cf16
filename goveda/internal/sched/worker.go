package sched

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// workerStats are counters written only by the owning worker, with plain stores; publish copies
// them into workerPub so Metrics can read them without a data race. Keeping the hot increments
// non-atomic is what makes telemetry nearly free.
type workerStats struct {
	executed      uint64
	stolen        uint64
	stealAttempts uint64
	parks         uint64
	localSteals   uint64 // successful steals from a same-node victim (hierarchical stealing)
	remoteSteals  uint64 // successful steals from another node's worker
}

// workerPub is the published copy of a worker's counters and clocks. Written by the owner,
// read by Metrics and the adaptive monitor (any goroutine).
type workerPub struct {
	executed      atomic.Uint64 // store by owner in publish / load by readers: snapshot, no ordering role
	stolen        atomic.Uint64 // same
	stealAttempts atomic.Uint64 // same
	parks         atomic.Uint64 // same
	localSteals   atomic.Uint64 // same
	remoteSteals  atomic.Uint64 // same
	busyNs        atomic.Int64  // add by owner at idle/busy transitions; load by readers: snapshot
	idleNs        atomic.Int64  // same
	// busySince is the pool clock + 1 at the start of the busy phase in progress, 0 while idle:
	// a task that runs for a long time (a C callback that blocks or spins) counts as busy
	// before it returns (busyNow). Store by owner at transitions; load by readers: snapshot.
	busySince atomic.Int64
}

// Worker is one pool goroutine with its deque. Fields are owner-only unless stated. goveda's job
// types get their *Worker in Runner.Run and use Push, JoinTask, WaitUntil and the free list.
type Worker struct {
	dq deque // padded; owner pushes/pops, thieves steal

	p      *Pool
	id     int
	node   int            // NUMA node index (0 with one node); fixed at New
	cpu    int            // CPU to pin to (-1: the allowed CPUs round-robin); fixed at New
	local  []*Worker      // same-node other workers (hierarchical stealing); read-only after New
	remote []*Worker      // other nodes' workers, nearest node first; read-only after New
	gid    atomic.Uintptr // the worker goroutine's getg() key; store at start/exit, load by Pool.Current: identity only
	wakeCh chan struct{}  // capacity 1: wake tokens (see wake)
	rng    uint64         // xorshift state for victim choice

	registered bool // in p.sleep.sleepers; guarded by p.sleep.mu

	cur, kids uint64 // schedule ids: the task w runs and how many tasks it pushed (schedule.go)

	lastQueueSample int64 // pool clock of w's last queue-depth trace sample (trace.go)
	src             int   // where the task about to run came from (FromOwn, FromInjector, a victim)

	jobFree []any // recycled jobs that ran inline (TakeFree/PutFree); owner only

	ext     *ExtDeque // foreign join records (ext.go); nil without; fixed at New
	extFree []*extJob // recycled stolen-record jobs; owner only

	ys yieldState // rescheduling points (yield.go); owner only

	shared atomic.Pointer[Shared] // work w runs that others may join (share.go); owner stores, joiners load

	// woken: a growth woke w and w has not yet started to search (see Pool.waking). CAS
	// false->true by resize, CAS true->false by w in idle (after it counts as a searcher, or
	// before it suspends again).
	woken atomic.Bool

	st         workerStats
	phaseStart int64 // p.now() at the last idle/busy transition (clocks on only)
	busyPhase  bool  // the clock is in a busy phase (clocks on only)

	pub workerPub

	histMu sync.Mutex              // guards hist: owner records, Metrics merges
	hist   *hdrhistogram.Histogram // latency of injected tasks, ns; nil with telemetry off
	waits  *hdrhistogram.Histogram // wait of injected tasks (submit to start), ns; guarded by histMu

	_ [cacheLine]byte
}

func newWorker(p *Pool, id int) *Worker {
	w := &Worker{p: p, id: id, wakeCh: make(chan struct{}, 1)}
	w.dq.init()
	w.rng = splitmix(p.seed + uint64(id)*0x9E3779B97F4A7C15)
	if w.rng == 0 {
		w.rng = 1
	}
	if p.latency {
		w.hist = hdrhistogram.New(1, 3_600_000_000_000, 2) // 1 ns .. 1 h, 2 significant digits
		w.waits = hdrhistogram.New(1, 3_600_000_000_000, 2)
	}
	return w
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// nextRand returns the next xorshift64 value. Owner only.
func (w *Worker) nextRand() uint64 {
	x := w.rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	w.rng = x
	return x
}

// main is the worker goroutine: run work until the runtime stops. ready receives the start-up
// result (pinning errors) exactly once.
func (w *Worker) main(ready chan<- error) {
	p := w.p
	defer p.wg.Done()
	if p.pin {
		if err := pinThread(w.id, w.cpu); err != nil {
			ready <- err
			return
		}
	}
	w.gid.Store(getg()) // store: identity key; ready's channel send orders it before New returns
	w.phaseStart = p.now()
	if p.clocks {
		w.busyPhase = true
		w.pub.busySince.Store(w.phaseStart + 1) // store: snapshot for busyNow
	}
	ready <- nil
	for {
		if d := p.det; d != nil && d.replaying() {
			if t := w.replayTake(nil, nil); t != nil {
				w.execute(t)
				continue
			}
			if d.replaying() {
				break // the pool stops
			}
			continue // the replay failed: schedule normally
		}
		if t := w.findWork(); t != nil {
			w.execute(t)
			continue
		}
		if !w.idle() {
			break
		}
	}
	w.publish()
	w.gid.Store(0) // store: this goroutine is about to end; its g may be reused
}

// Push publishes t on w's deque and wakes a sleeper if needed. Owner only (a task running on w).
// Amortized O(1).
func (w *Worker) Push(t *Task) {
	if p := w.p; p.det != nil {
		p.assignID(w, t)
		if p.det.replaying() && p.register(t) {
			return
		}
	}
	w.dq.push(t)
	w.p.notify()
}

// execute runs t and sets its latch. Worker only (t was taken from a queue by w).
func (w *Worker) execute(t *Task) {
	if debugChecks {
		// Invariant: task bodies run only on their worker's goroutine; this is what makes
		// Workers a strict cap on bodies running at once.
		if getg() != w.gid.Load() {
			panic("veda: internal: task executed off its worker goroutine")
		}
	}
	if w.p.det != nil {
		w.runDet(t, w.src, true)
	} else if rec := w.p.tr.Load(); rec != nil { // load (seq-cst): trace point, see trace.go
		w.executeTraced(t, rec)
	} else {
		t.Job.Run(w)
	}
	t.Done.Set()
	if w.p.det != nil {
		w.p.taskDone()
	}
	w.st.executed++
	if w.st.executed&1023 == 0 {
		w.publish()
	}
	if w.p.yield {
		w.afterTask()
	}
}

// findWork returns a task to run, or nil: own deque first (hot path), then findWorkSlow.
// Owner only.
func (w *Worker) findWork() *Task {
	if t := w.dq.pop(); t != nil {
		w.src = FromOwn
		return t
	}
	if w.ext != nil {
		// Non-empty only while w waits inside foreign code that pushed records (ext.go, 4).
		if t := w.takeOwnExt(); t != nil {
			return t
		}
	}
	return w.findWorkSlow()
}

// findWorkSlow looks in the injector when it holds high-priority work, then steals from random
// victims, then takes any injected work.
func (w *Worker) findWorkSlow() *Task {
	p := w.p
	if p.inj.hi.Load() > 0 { // load: hint only
		if t := p.popInjected(); t != nil {
			w.src = FromInjector
			w.traceQueue()
			return t
		}
	}
	if t := w.steal(); t != nil {
		return t
	}
	t := p.popInjected()
	if t != nil {
		w.src = FromInjector
		w.traceQueue()
	}
	return t
}

// steal tries each other worker once, starting at a random victim. On success it also moves up
// to half of the victim's remaining tasks into w's deque (batch stealing). With NUMA nodes it is
// hierarchical (stealHier). Owner only.
func (w *Worker) steal() *Task {
	if w.p.numa.hier {
		return w.stealHier()
	}
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
		w.st.stealAttempts++
		for {
			t, retry := v.dq.steal()
			if t != nil {
				w.st.stolen++
				w.src = v.id
				w.traceSteal(v)
				w.stealBatch(v)
				return t
			}
			if !retry {
				break
			}
		}
		if t := w.stealExt(v); t != nil {
			return t
		}
	}
	return nil
}

// stealBatch moves up to half of v's tasks into w's deque. Owner (w) only.
func (w *Worker) stealBatch(v *Worker) {
	k := v.dq.size() / 2
	moved := false
	for ; k > 0; k-- {
		t, _ := v.dq.steal()
		if t == nil {
			break
		}
		w.dq.push(t)
		w.st.stolen++
		moved = true
	}
	if moved {
		w.p.notify()
	}
}

// idle is the cold path of the worker loop: spin looking for work, then park. It returns true
// after running a task (or when woken), false when the runtime stopped. Owner only.
func (w *Worker) idle() bool {
	p := w.p
	w.publish()
	w.clockIdle()
	for {
		if p.stopping.Load() && !p.hasWork() { // load: set once by Close after all work drained
			return false
		}
		if limit := p.active.Load(); int32(w.id) >= limit { // load: adaptive limit, see adaptive.go
			w.clearWoken() // a growth that woke us was undone: we take nothing
			// We may have been woken for a task just before the limit dropped below us: pass
			// the wake-up on to a worker that may run it, or the task waits for the monitor.
			if p.hasWork() {
				p.notify()
			}
			w.suspend()
			continue
		}
		p.sleep.searching.Add(1) // add (seq-cst): see Pool.notify
		w.clearWoken()           // after the add: a push in between sees waking or searching
		spun := w.spinner()
		for i := 0; spun.more(i); i++ {
			var s *Shared
			t := w.findWorkSlow()
			if t == nil {
				s = w.joinShared() // no task: join a leaf another worker runs (share.go)
			}
			if t != nil || s != nil {
				// add (seq-cst): the last searcher to find work hands the wake on if more
				// work is queued, so a push that skipped notify because we searched is seen.
				if p.sleep.searching.Add(-1) == 0 && p.sleep.idle.Load() > 0 && p.hasWork() {
					p.sleep.wakeOne(p.active.Load()) // load: adaptive limit
				}
				w.clockBusy()
				if t != nil {
					w.execute(t)
				} else {
					w.runShared(s)
				}
				return true
			}
			spinPause(i)
		}
		p.sleep.searching.Add(-1) // add (seq-cst): we stop searching before registering to sleep
		w.fallAsleep(nil)
	}
}

// clearWoken ends w's woken state (Pool.waking). Owner only.
func (w *Worker) clearWoken() {
	if w.woken.Load() && w.woken.CompareAndSwap(true, false) { // load, then CAS (seq-cst): see woken
		w.p.waking.Add(-1) // add (seq-cst): pairs with resize's add
	}
}

// suspend parks a worker that the adaptive policy made surplus until it is active again or the
// runtime stops. Owner only.
func (w *Worker) suspend() {
	p := w.p
	w.st.parks++
	w.releaseSlot() // a suspended worker holds no execution slot (inline.go)
	// loads: the monitor stores active and then wakes us; the buffered token makes the pair safe.
	for int32(w.id) >= p.active.Load() && !p.stopping.Load() {
		<-w.wakeCh
	}
	w.acquireSlot()
}

// JoinTask finishes a fork-join: t was pushed by w before w ran the other half. If t is still at
// the bottom of w's deque it runs inline (the common, cheap case); otherwise it was stolen and w
// helps until t's latch is set. It reports whether t ran inline here. Owner only.
func (w *Worker) JoinTask(t *Task) bool {
	if t.Done.Probe() {
		return false
	}
	if d := w.p.det; d != nil && d.replaying() {
		for !t.Done.Probe() {
			u := w.replayTake(&t.Done, nil)
			if u == nil {
				if !d.replaying() {
					break // failed: finish below as without a schedule
				}
				continue
			}
			if u == t {
				w.runDet(t, w.src, false)
				w.st.executed++
				return true
			}
			w.execute(u)
		}
		if t.Done.Probe() {
			return false
		}
	}
	if u := w.dq.pop(); u != nil {
		w.src = FromOwn
		if u == t {
			if w.p.det != nil {
				w.runDet(t, FromOwn, false)
			} else {
				t.Job.Run(w)
			}
			w.st.executed++
			return true
		}
		// t was stolen and u is older work below it (tasks moved here by a batch steal):
		// running it is helping, exactly as WaitUntil would.
		w.execute(u)
	}
	w.WaitUntil(&t.Done, nil)
	return false
}

// WaitUntil returns when l is set, or when ctx (may be nil) is done. Meanwhile w runs other
// tasks (helping), spins briefly, then parks. Owner only.
func (w *Worker) WaitUntil(l *Latch, ctx context.Context) {
	if l.Probe() {
		return
	}
	if d := w.p.det; d != nil && d.replaying() && w.waitReplay(d, l, ctx) {
		return
	}
	w.waitSlow(l, ctx)
}

// waitFor is WaitUntil for a foreign join record (WaitExt). Owner only.
func (w *Worker) waitFor(c waitCond) {
	if c.Probe() {
		return
	}
	w.waitSlow(c, nil)
}

func (w *Worker) waitSlow(l waitCond, ctx context.Context) {
	if ctx != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, w.wake)
		defer stop()
	} else {
		ctx = nil
	}
	spun := w.spinner()
	var traceStart int64
	helped := false
	rec := w.p.tr.Load() // load (seq-cst): trace point, see trace.go
	if rec != nil {
		traceStart = w.p.now()
		defer func() { w.traceWait(rec, traceStart, helped) }()
	}
	// While it spins without work, w counts in p.sleep.waiting (idle for IdleWorkers): a leaf
	// that another worker runs then offers w half of its rest at its next piece (a reduce leaf;
	// loop leaves are joined through Shared instead, share.go).
	waiting := false
	defer func() {
		if waiting {
			w.p.sleep.waiting.Add(-1) // add: a hint, no ordering role
		}
	}()
	for {
		for i := 0; ; i++ {
			if l.Probe() || (ctx != nil && ctx.Err() != nil) {
				return
			}
			t := w.findWork()
			var s *Shared
			if t == nil {
				s = w.joinShared() // no task: join a leaf another worker runs (share.go)
			}
			if t != nil || s != nil {
				if waiting {
					w.p.sleep.waiting.Add(-1) // add: a hint, no ordering role
					waiting = false
				}
				if t != nil {
					w.execute(t)
				} else {
					w.runShared(s)
				}
				helped = true
				i = 0
				spun = w.spinner()
				continue
			}
			if !waiting {
				w.p.sleep.waiting.Add(1) // add: a hint, no ordering role
				waiting = true
			}
			if !spun.more(i) {
				break
			}
			spinPause(i)
		}
		w.p.sleep.waiting.Add(-1) // parked, it counts in idle instead
		waiting = false
		w.fallAsleep(l)
		spun = w.spinner()
	}
}

// waitReplay is WaitUntil under a replayed schedule: it runs w's recorded tasks in order until l
// is set or ctx is done, and reports true then; false when the replay failed meanwhile (the
// caller then waits as without a schedule). Owner only.
func (w *Worker) waitReplay(d *detState, l *Latch, ctx context.Context) bool {
	var done func() bool
	if ctx != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, d.broadcast)
		defer stop()
		done = func() bool { return ctx.Err() != nil }
	}
	for {
		if l.Probe() || (done != nil && done()) {
			return true
		}
		u := w.replayTake(l, done)
		if u == nil {
			if !d.replaying() {
				return false
			}
			continue
		}
		w.execute(u)
	}
}

// publish copies the owner's counters to the published atomics. Owner only.
func (w *Worker) publish() {
	w.pub.executed.Store(w.st.executed)
	w.pub.stolen.Store(w.st.stolen)
	w.pub.stealAttempts.Store(w.st.stealAttempts)
	w.pub.parks.Store(w.st.parks)
	w.pub.localSteals.Store(w.st.localSteals)
	w.pub.remoteSteals.Store(w.st.remoteSteals)
}

// clockIdle and clockBusy account busy/idle time at transitions (never per task): clockIdle
// when the worker enters its idle loop or parks inside a wait (fallAsleep), clockBusy when it
// found work or woke up inside a wait. Each is a no-op in the phase it would enter. Owner only.
func (w *Worker) clockIdle() {
	if !w.p.clocks || !w.busyPhase {
		return
	}
	now := w.p.now()
	// store, then add: a reader between the two sees neither the phase in progress nor its
	// total (an undercount for one sample that the next one makes up), never both twice.
	w.pub.busySince.Store(0)
	w.pub.busyNs.Add(now - w.phaseStart)
	w.phaseStart = now
	w.busyPhase = false
}

func (w *Worker) clockBusy() {
	if !w.p.clocks || w.busyPhase {
		return
	}
	now := w.p.now()
	w.pub.idleNs.Add(now - w.phaseStart)
	w.pub.busySince.Store(now + 1) // store: snapshot for busyNow (+1: 0 means idle)
	w.phaseStart = now
	w.busyPhase = true
}

// busyNow returns w's busy time up to now (pool clock), the busy phase in progress included, and
// whether w is in a busy phase (running a task, or helping in a wait). Any goroutine; a snapshot
// (see clockIdle for the one-sample undercount at a transition).
func (w *Worker) busyNow(now int64) (int64, bool) {
	since := w.pub.busySince.Load() // load: snapshot
	b := w.pub.busyNs.Load()        // load: snapshot
	if since == 0 {
		return b, false
	}
	if d := now - (since - 1); d > 0 {
		b += d
	}
	return b, true
}

// RecordLatency adds one injected task's submit-to-finish latency. Worker only.
func (w *Worker) RecordLatency(enq int64) {
	if w.hist == nil {
		return
	}
	d := w.p.now() - enq
	if d < 1 {
		d = 1
	}
	w.histMu.Lock()
	_ = w.hist.RecordValue(d)
	w.histMu.Unlock()
}

// RecordWait adds one injected task's wait: from its submission (enq, pool clock) until a
// worker started it. Worker only, at the start of the task.
func (w *Worker) RecordWait(enq int64) {
	if w.waits == nil {
		return
	}
	d := w.p.now() - enq
	if d < 1 {
		d = 1
	}
	w.histMu.Lock()
	_ = w.waits.RecordValue(d)
	w.histMu.Unlock()
}

// Pool returns the pool w belongs to. Any goroutine.
func (w *Worker) Pool() *Pool { return w.p }

// TakeFree pops a recycled job from w's free list, or returns nil. Owner only.
func (w *Worker) TakeFree() any {
	n := len(w.jobFree)
	if n == 0 {
		return nil
	}
	j := w.jobFree[n-1]
	w.jobFree[n-1] = nil
	w.jobFree = w.jobFree[:n-1]
	return j
}

// maxJobFree bounds a worker's free list of jobs.
const maxJobFree = 64

// PutFree offers j (a job that ran inline, so no other goroutine can still hold it) to w's free
// list and reports whether it was kept. Owner only.
func (w *Worker) PutFree(j any) bool {
	if len(w.jobFree) >= maxJobFree {
		return false
	}
	w.jobFree = append(w.jobFree, j)
	return true
}
