package goveda

import (
	"fmt"
	"sync"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// Runtime is a pool of worker goroutines with work-stealing deques, an injector for outside
// work, and the data-parallel and structured-task calls built on them. All methods may be called
// from any goroutine, including from inside tasks (nesting). See the package doc for the design.
type Runtime struct {
	cfg  Config
	pool *sched.Pool // the work-stealing core (goveda/internal/sched)

	dev         devState    // devices and dispatcher, initialized on first use (devices.go)
	energy      energyState // sensors, meter and power/temperature governor (energy.go)
	placement   placement   // NUMA nodes and CPUs of the workers (numa.go)
	userWorkers int         // Config.Workers as the caller gave it (0: automatic), for the profile
	shared      bool        // the process-wide shared runtime (shared.go); set once before publication

	tr         traceState       // timeline tracing (trace.go)
	ktimes     kernelTimes      // kernel-call wall times per device (kerneltime.go)
	metricsMu  sync.Mutex       // guards metricsSrv
	metricsSrv []*MetricsServer // started by ServeMetrics (metrics_http.go)
	schedPath  string           // where Close writes the recorded schedule (schedule.go), or ""
}

// Spin rounds before a worker parks, and the least time it spins (sched's Options.SpinFor), by
// policy. Waking a parked worker costs 0.1-2 ms on a virtual machine whose idle vCPU halts
// (traced on the 2-core machine: the second worker of back-to-back nqueens loops started up to
// 2.6 ms late); a worker that spins 200 us after its last task is still awake for the next loop
// of a program that runs loops back to back, as OpenMP's and oneTBB's threads are. The spin
// happens once per busy-to-idle transition, so an idle pool still costs nothing.
const (
	spinDefault       = 64
	spinLowLatency    = 4096
	spinEnergy        = 8
	spinForDefault    = 200 * time.Microsecond
	spinForLowLatency = 2 * time.Millisecond
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
	o := sched.Options{
		Workers: cfg.Workers,
		Seed:    cfg.Seed,
		Pin:     cfg.PinWorkers,
		Latency: !cfg.DisableTelemetry,
		Clocks:  !cfg.DisableTelemetry,
		Yield:   cfg.CgoBodies,
		Ext:     cfg.CgoBodies, // foreign joins (foreign.go, ForeignJoin)
	}
	if o.Seed == 0 && cfg.Policy != PolicyDeterministic {
		o.Seed = uint64(time.Now().UnixNano())
	}
	switch cfg.Policy {
	case PolicyLowLatency:
		o.Spin, o.SpinFor = spinLowLatency, spinForLowLatency
	case PolicyEnergyEfficient:
		o.Spin = spinEnergy
	default:
		o.Spin, o.SpinFor = spinDefault, spinForDefault
	}

	o.Adaptive = (cfg.Policy == PolicyAdaptive || cfg.Policy == PolicyEnergyEfficient) && cfg.Workers > 1
	// The adaptive policy unparks a worker as soon as a task waits for one; the energy-efficient
	// one only at the monitor's tick, so short bursts do not wake workers.
	o.GrowOnPush = cfg.Policy == PolicyAdaptive
	rt := &Runtime{
		cfg:         cfg,
		userWorkers: userWorkers,
	}
	rt.energy.base = time.Now() // before the monitor can log a resize
	rt.place(&o)
	o.OnResize = rt.noteResize
	if err := rt.scheduleOptions(&o); err != nil {
		return nil, err
	}
	pool, err := sched.New(o)
	if err != nil {
		return nil, wrap(ErrUnsupported, err)
	}
	if cfg.CgoBodies {
		reserveSpareP(cfg.Workers)
	}
	rt.pool = pool
	rt.startEnergy()
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
	if !rt.pool.Closed() {
		rt.saveCalibrationOnClose() // calibration.go: keep the measured cost model for the next process
	}
	fromTask := rt.current() != nil
	if !rt.pool.Close() {
		return ErrClosed
	}
	if !fromTask { // from a task the workers still run: their schedule logs are not final
		rt.writeSchedule()
	}
	rt.stopTraceAtClose()
	rt.stopMetricsAtClose()
	rt.stopEnergy()
	return nil
}

// enter admits one unit of outside work, or returns ErrClosed. Any goroutine.
func (rt *Runtime) enter() error {
	if !rt.pool.Enter() {
		return fmt.Errorf("%w", ErrClosed)
	}
	return nil
}

// exit ends one unit admitted by enter. Any goroutine.
func (rt *Runtime) exit() { rt.pool.Exit() }

// Workers returns the number of workers: the cap on task bodies and CPU kernel chunks running
// at once (see Config.Workers for what does not count). Any goroutine.
func (rt *Runtime) Workers() int { return rt.pool.Workers() }

// ActiveWorkers returns how many workers the adaptive policy currently lets take work
// (Workers() for non-adaptive policies). Any goroutine; a snapshot.
func (rt *Runtime) ActiveWorkers() int { return rt.pool.Active() }

// Policy returns the runtime's scheduling policy. Any goroutine.
func (rt *Runtime) Policy() Policy { return rt.cfg.Policy }

// current returns the worker of rt that the calling goroutine is, or nil. Any goroutine.
func (rt *Runtime) current() *sched.Worker { return rt.pool.Current() }

// runRoot runs fn on a worker and blocks until it returns; fn must not panic (callers recover
// user code). Returns ErrClosed if rt is closed. Outside goroutines only (workers call fn directly).
func (rt *Runtime) runRoot(p Priority, fn func(w *sched.Worker)) error {
	if !rt.pool.RunRoot(p.level(), fn) {
		return fmt.Errorf("%w", ErrClosed)
	}
	if err := rt.pool.TakeReplayError(); err != nil {
		return wrap(ErrInvalidArgument, err)
	}
	return nil
}
