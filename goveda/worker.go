package goveda

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
}

// workerPub is the published copy of a worker's counters and clocks. Written by the owner,
// read by Metrics and the adaptive monitor (any goroutine).
type workerPub struct {
	executed      atomic.Uint64 // store by owner in publish / load by readers: snapshot, no ordering role
	stolen        atomic.Uint64 // same
	stealAttempts atomic.Uint64 // same
	parks         atomic.Uint64 // same
	busyNs        atomic.Int64  // add by owner at idle/busy transitions; load by readers: snapshot
	idleNs        atomic.Int64  // same
}

// worker is one pool goroutine with its deque. Fields are owner-only unless stated.
type worker struct {
	dq deque // padded; owner pushes/pops, thieves steal

	rt     *Runtime
	id     int
	gid    atomic.Uintptr // the worker goroutine's getg() key; store at start/exit, load by current(): identity only
	wakeCh chan struct{}  // capacity 1: wake tokens (see wake)
	rng    uint64         // xorshift state for victim choice

	registered bool // in rt.sleep.sleepers; guarded by rt.sleep.mu

	jobFree []any // recycled join jobs that ran inline (see joinOn); owner only

	st         workerStats
	phaseStart int64 // rt.now() at the last idle/busy transition (clocks on only)

	pub workerPub

	histMu sync.Mutex              // guards hist: owner records, Metrics merges
	hist   *hdrhistogram.Histogram // latency of injected tasks, ns; nil with telemetry off

	_ [cacheLine]byte
}

func newWorker(rt *Runtime, id int) *worker {
	w := &worker{rt: rt, id: id, wakeCh: make(chan struct{}, 1)}
	w.dq.init()
	w.rng = splitmix(rt.seed + uint64(id)*0x9E3779B97F4A7C15)
	if w.rng == 0 {
		w.rng = 1
	}
	if !rt.cfg.DisableTelemetry {
		w.hist = hdrhistogram.New(1, 3_600_000_000_000, 2) // 1 ns .. 1 h, 2 significant digits
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
func (w *worker) nextRand() uint64 {
	x := w.rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	w.rng = x
	return x
}

// main is the worker goroutine: run work until the runtime stops. ready receives the start-up
// result (pinning errors) exactly once.
func (w *worker) main(ready chan<- error) {
	rt := w.rt
	defer rt.wg.Done()
	if rt.cfg.PinWorkers {
		if err := pinThread(w.id); err != nil {
			ready <- err
			return
		}
	}
	w.gid.Store(getg()) // store: identity key; ready's channel send orders it before New returns
	w.phaseStart = rt.now()
	ready <- nil
	for {
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

// push publishes t on w's deque and wakes a sleeper if needed. Owner only.
func (w *worker) push(t *task) {
	w.dq.push(t)
	w.rt.sleep.notify()
}

// execute runs t and sets its latch. Worker only (t was taken from a queue by w).
func (w *worker) execute(t *task) {
	if debugChecks {
		// Invariant: task bodies run only on their worker's goroutine; this is what makes
		// Workers a strict cap on bodies running at once.
		if getg() != w.gid.Load() {
			panic("veda: internal: task executed off its worker goroutine")
		}
	}
	t.r.run(w)
	t.latch.set()
	w.st.executed++
	if w.st.executed&1023 == 0 {
		w.publish()
	}
}

// findWork returns a task to run, or nil: own deque first (hot path), then findWorkSlow.
// Owner only.
func (w *worker) findWork() *task {
	if t := w.dq.pop(); t != nil {
		return t
	}
	return w.findWorkSlow()
}

// findWorkSlow looks in the injector when it holds high-priority work, then steals from random
// victims, then takes any injected work.
func (w *worker) findWorkSlow() *task {
	rt := w.rt
	if rt.inj.hi.Load() > 0 { // load: hint only
		if t := rt.popInjected(); t != nil {
			return t
		}
	}
	if t := w.steal(); t != nil {
		return t
	}
	return rt.popInjected()
}

// steal tries each other worker once, starting at a random victim. On success it also moves up
// to half of the victim's remaining tasks into w's deque (batch stealing). Owner only.
func (w *worker) steal() *task {
	ws := w.rt.workers
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
				w.stealBatch(v)
				return t
			}
			if !retry {
				break
			}
		}
	}
	return nil
}

// stealBatch moves up to half of v's tasks into w's deque. Owner (w) only.
func (w *worker) stealBatch(v *worker) {
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
		w.rt.sleep.notify()
	}
}

// idle is the cold path of the worker loop: spin looking for work, then park. It returns true
// after running a task (or when woken), false when the runtime stopped. Owner only.
func (w *worker) idle() bool {
	rt := w.rt
	w.publish()
	w.clockIdle()
	for {
		if rt.stopping.Load() && !rt.hasWork() { // load: set once by Close after all work drained
			return false
		}
		if int32(w.id) >= rt.active.Load() { // load: adaptive limit, see adaptive.go
			w.suspend()
			continue
		}
		rt.sleep.searching.Add(1) // add (seq-cst): see sleepState.notify
		for i := 0; i < rt.spin; i++ {
			if t := w.findWorkSlow(); t != nil {
				// add (seq-cst): the last searcher to find work hands the wake on if more
				// work is queued, so a push that skipped notify because we searched is seen.
				if rt.sleep.searching.Add(-1) == 0 && rt.sleep.idle.Load() > 0 && rt.hasWork() {
					rt.sleep.wakeOne()
				}
				w.clockBusy()
				w.execute(t)
				return true
			}
			spinPause(i)
		}
		rt.sleep.searching.Add(-1) // add (seq-cst): we stop searching before registering to sleep
		w.fallAsleep(nil)
	}
}

// suspend parks a worker that the adaptive policy made surplus until it is active again or the
// runtime stops. Owner only.
func (w *worker) suspend() {
	rt := w.rt
	w.st.parks++
	// loads: the monitor stores active and then wakes us; the buffered token makes the pair safe.
	for int32(w.id) >= rt.active.Load() && !rt.stopping.Load() {
		<-w.wakeCh
	}
}

// joinTask finishes a fork-join: t was pushed by w before w ran the other half. If t is still at
// the bottom of w's deque it runs inline (the common, cheap case); otherwise it was stolen and w
// helps until t's latch is set. It reports whether t ran inline here. Owner only.
func (w *worker) joinTask(t *task) bool {
	if t.latch.probe() {
		return false
	}
	if u := w.dq.pop(); u != nil {
		if u == t {
			t.r.run(w)
			w.st.executed++
			return true
		}
		// t was stolen and u is older work below it (tasks moved here by a batch steal):
		// running it is helping, exactly as waitUntil would.
		w.execute(u)
	}
	w.waitUntil(&t.latch, nil)
	return false
}

// waitUntil returns when l is set, or when ctx (may be nil) is done. Meanwhile w runs other
// tasks (helping), spins briefly, then parks. Owner only.
func (w *worker) waitUntil(l *latch, ctx context.Context) {
	if l.probe() {
		return
	}
	w.waitSlow(l, ctx)
}

func (w *worker) waitSlow(l *latch, ctx context.Context) {
	if ctx != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, w.wake)
		defer stop()
	} else {
		ctx = nil
	}
	spin := w.rt.spin
	for {
		for i := 0; ; i++ {
			if l.probe() || (ctx != nil && ctx.Err() != nil) {
				return
			}
			if t := w.findWork(); t != nil {
				w.execute(t)
				i = 0
				continue
			}
			if i >= spin {
				break
			}
			spinPause(i)
		}
		w.fallAsleep(l)
	}
}

// publish copies the owner's counters to the published atomics. Owner only.
func (w *worker) publish() {
	w.pub.executed.Store(w.st.executed)
	w.pub.stolen.Store(w.st.stolen)
	w.pub.stealAttempts.Store(w.st.stealAttempts)
	w.pub.parks.Store(w.st.parks)
}

// clockIdle and clockBusy account busy/idle time at transitions (never per task). Owner only.
func (w *worker) clockIdle() {
	if !w.rt.clocks {
		return
	}
	now := w.rt.now()
	w.pub.busyNs.Add(now - w.phaseStart)
	w.phaseStart = now
}

func (w *worker) clockBusy() {
	if !w.rt.clocks {
		return
	}
	now := w.rt.now()
	w.pub.idleNs.Add(now - w.phaseStart)
	w.phaseStart = now
}

// recordLatency adds one injected task's submit-to-finish latency. Worker only.
func (w *worker) recordLatency(enq int64) {
	if w.hist == nil {
		return
	}
	d := w.rt.now() - enq
	if d < 1 {
		d = 1
	}
	w.histMu.Lock()
	_ = w.hist.RecordValue(d)
	w.histMu.Unlock()
}
