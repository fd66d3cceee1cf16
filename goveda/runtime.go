package goveda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime is a pool of worker goroutines with work-stealing deques, an injector for outside
// work, and the data-parallel and structured-task calls built on them. All methods may be called
// from any goroutine, including from inside tasks (nesting). See the package doc for the design.
type Runtime struct {
	cfg     Config
	workers []*worker
	inj     injector
	sleep   sleepState

	active   atomic.Int32 // adaptive limit: workers with id >= active suspend; store by monitor, load by workers
	inflight atomic.Int64 // outside calls and submitted tasks not yet finished; seq-cst (see enter/Close)
	closed   atomic.Bool  // no new outside work; seq-cst store in Close, load in enter
	stopping atomic.Bool  // all work drained, workers exit; store by shutdown, load by workers

	drained   chan struct{} // capacity 1: a token when inflight reaches 0 after closed
	closeMu   sync.Mutex
	closing   bool          // guarded by closeMu
	closeDone chan struct{} // closed when shutdown finished
	wg        sync.WaitGroup

	spin   int    // spin rounds before parking (policy)
	clocks bool   // busy/idle clocks on (telemetry or adaptive)
	seed   uint64 // victim-choice seed
	base   time.Time

	panicked  atomic.Uint64 // task panics recovered; add only
	submitted atomic.Uint64 // tasks injected; add only

	mon *monitor // adaptive policy, or nil

	srcMu   sync.Mutex
	sources map[string]func() map[string]float64 // Metrics.Extra providers (devices)

	dev         devState   // devices and dispatcher, initialized on first use (devices.go)
	tr          traceState // timeline tracing (trace.go)

	metricsMu  sync.Mutex
	metricsSrv []*MetricsServer // started by ServeMetrics; guarded by metricsMu
	userWorkers int      // Config.Workers as the caller gave it (0: automatic), for the profile
	shared      bool     // the process-wide shared runtime (shared.go); set once before publication
}

// Spin rounds before a worker parks, by policy.
const (
	spinDefault    = 64
	spinLowLatency = 4096
	spinEnergy     = 8
)

// New creates a runtime and starts its workers. A bad Config returns an error wrapping
// ErrInvalidArgument; PinWorkers on a system that cannot pin returns one wrapping ErrUnsupported.
// Cost: starts Workers goroutines (tens of microseconds). Any goroutine.
func New(cfg Config) (*Runtime, error) {
	userWorkers := cfg.Workers
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	rt := &Runtime{
		cfg:       cfg,
		drained:   make(chan struct{}, 1),
		closeDone: make(chan struct{}),
		base:      time.Now(),
		sources:   map[string]func() map[string]float64{},

		userWorkers: userWorkers,
	}
	rt.inj.agingStep = defaultAgingStep
	rt.seed = cfg.Seed
	if rt.seed == 0 && cfg.Policy != PolicyDeterministic {
		rt.seed = uint64(time.Now().UnixNano())
	}
	switch cfg.Policy {
	case PolicyLowLatency:
		rt.spin = spinLowLatency
	case PolicyEnergyEfficient:
		rt.spin = spinEnergy
	default:
		rt.spin = spinDefault
	}
	adaptive := (cfg.Policy == PolicyAdaptive || cfg.Policy == PolicyEnergyEfficient) && cfg.Workers > 1
	rt.clocks = !cfg.DisableTelemetry || adaptive
	rt.active.Store(int32(cfg.Workers))
	rt.workers = make([]*worker, cfg.Workers)
	for i := range rt.workers {
		rt.workers[i] = newWorker(rt, i)
	}
	ready := make(chan error, cfg.Workers)
	rt.wg.Add(cfg.Workers)
	for _, w := range rt.workers {
		go w.main(ready)
	}
	var errs []error
	for range rt.workers {
		if err := <-ready; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		rt.closing = true
		rt.closed.Store(true)
		rt.shutdown()
		return nil, errors.Join(errs...)
	}
	if adaptive {
		rt.mon = startMonitor(rt)
	}
	rt.startEnvTrace()
	return rt, nil
}

// Close stops accepting outside work, waits for all in-flight work (outside calls, submitted
// tasks and everything they spawned) and stops the workers. No accepted task is lost. Close is
// idempotent: the first call returns nil, later calls wait for the first to finish and return
// ErrClosed. Called from inside one of rt's own tasks, Close cannot wait for itself: it starts
// the shutdown and returns nil at once. On the shared runtime (Shared, Default) Close releases
// one reference instead, and only the last one closes (see shared.go). Any goroutine.
func (rt *Runtime) Close() error {
	if rt.shared {
		return rt.releaseShared()
	}
	return rt.closeNow()
}

// closeNow is Close proper. Any goroutine.
func (rt *Runtime) closeNow() error {
	rt.closeMu.Lock()
	if rt.closing {
		rt.closeMu.Unlock()
		if rt.current() == nil {
			<-rt.closeDone
		}
		return ErrClosed
	}
	rt.closing = true
	rt.closeMu.Unlock()
	// store (seq-cst): pairs with enter's inflight.Add then closed.Load; see enter.
	rt.closed.Store(true)
	if rt.current() != nil {
		go rt.shutdown()
		return nil
	}
	rt.shutdown()
	return nil
}

// shutdown waits for inflight to drain, then stops and joins the workers.
func (rt *Runtime) shutdown() {
	for rt.inflight.Load() != 0 { // load (seq-cst): see exit
		<-rt.drained
	}
	rt.stopping.Store(true) // store (seq-cst): workers load it before parking (fallAsleep recheck)
	if rt.mon != nil {
		rt.mon.stop()
	}
	for _, w := range rt.workers {
		w.wake()
	}
	rt.wg.Wait()
	rt.stopTraceAtClose()
	rt.stopMetricsAtClose()
	close(rt.closeDone)
}

// enter admits one unit of outside work, or returns ErrClosed. Any goroutine.
func (rt *Runtime) enter() error {
	// add then load (seq-cst): Close stores closed then loads inflight, so either Close sees
	// our increment and waits for it, or we see closed and back out.
	rt.inflight.Add(1)
	if rt.closed.Load() {
		rt.exit()
		return fmt.Errorf("%w", ErrClosed)
	}
	return nil
}

// exit ends one unit admitted by enter. Any goroutine.
func (rt *Runtime) exit() {
	// add (seq-cst): the last exit after Close leaves a token for shutdown.
	if rt.inflight.Add(-1) == 0 && rt.closed.Load() {
		select {
		case rt.drained <- struct{}{}:
		default:
		}
	}
}

// Workers returns the number of workers: the cap on task bodies running at once. Any goroutine.
func (rt *Runtime) Workers() int { return len(rt.workers) }

// ActiveWorkers returns how many workers the adaptive policy currently lets take work
// (Workers() for non-adaptive policies). Any goroutine; a snapshot.
func (rt *Runtime) ActiveWorkers() int { return int(rt.active.Load()) }

// Policy returns the runtime's scheduling policy. Any goroutine.
func (rt *Runtime) Policy() Policy { return rt.cfg.Policy }

// now returns monotonic nanoseconds since the runtime started. Any goroutine.
func (rt *Runtime) now() int64 { return int64(time.Since(rt.base)) }

// current returns the worker of rt that the calling goroutine is, or nil. Any goroutine.
// Cost: one getg plus a scan of the workers (a few ns for small pools).
func (rt *Runtime) current() *worker {
	g := getg()
	for _, w := range rt.workers {
		if w.gid.Load() == g { // load: identity compare only
			return w
		}
	}
	return nil
}

// hasWork reports whether any queue looks non-empty. Any goroutine; used by recheck paths.
func (rt *Runtime) hasWork() bool {
	if rt.inj.len() > 0 { // load (seq-cst): pairs with the add in injector.push
		return true
	}
	for _, w := range rt.workers {
		if w.dq.size() > 0 { // loads (seq-cst): pair with the bottom store in deque.push
			return true
		}
	}
	return false
}

// inject queues t in the injector and wakes a worker if needed. Any goroutine.
func (rt *Runtime) inject(t *task, p Priority, deadline int64) {
	rt.submitted.Add(1)
	rt.inj.push(t, p, deadline, rt.now())
	rt.sleep.notify()
	if rt.mon != nil {
		rt.mon.kick()
	}
}

// popInjected takes the next injected task, or nil. Worker only.
func (rt *Runtime) popInjected() *task {
	e, ok := rt.inj.pop()
	if !ok {
		return nil
	}
	return e.t
}

// rootJob runs fn on a worker for a caller outside the pool, which blocks on done.
type rootJob struct {
	t    task
	fn   func(w *worker)
	enq  int64
	done chan struct{}
}

func (j *rootJob) run(w *worker) {
	defer close(j.done)
	j.fn(w)
	w.recordLatency(j.enq)
}

// runRoot runs fn on a worker and blocks until it returns; fn must not panic (callers recover
// user code). Returns ErrClosed if rt is closed. Outside goroutines only (workers call fn directly).
func (rt *Runtime) runRoot(p Priority, fn func(w *worker)) error {
	if err := rt.enter(); err != nil {
		return err
	}
	j := &rootJob{fn: fn, done: make(chan struct{}), enq: rt.now()}
	j.t.r = j
	rt.inject(&j.t, p, 0)
	rootWait(j.done)
	rt.exit()
	return nil
}

// rootSpin bounds how long an outside caller polls for its job before blocking.
const rootSpin = 50 * time.Microsecond

// rootWait waits for done: it polls for up to rootSpin (yielding its P between polls), then
// blocks. A short job (one chunk) usually finishes within the spin, which saves the wake-up of a
// blocked caller; for callers from C that is a thread handoff, because a cgo callback's
// goroutine is locked to its thread. Any outside goroutine.
func rootWait(done <-chan struct{}) {
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
		runtime.Gosched()
	}
}
