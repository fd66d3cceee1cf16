package goveda

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Pipelines (pipeline.go: the API and the engine; pipeline_source.go: sources; pipeline_iter.go:
// ordered results; pipeline_hybrid.go: CPU/device stages; pipeline_metrics.go: per-stage
// metrics; pipeline_graph.go: fan-out and merge).
//
// # Model
//
// A source produces items numbered 0, 1, 2, ... (the sequence numbers). Each item passes the
// stages in order. A stage is parallel (any number of items at once, any order), serial in order
// (one at a time, in sequence order, no gap: it may keep state) or serial out of order (one at a
// time, any order); these are oneTBB's filter modes. An item is alive from the moment the source
// returned it until it passed the last stage (finished) or was dropped. At most MaxInFlight items
// are alive, and the declared bytes of the admitted ones (items that entered the first stage, the
// reorder stash of in-order stages included) stay within MaxBytesInFlight; one item larger than the
// budget is admitted alone. The source is not called while the bounds are full (backpressure).
//
// # Protocol (one run)
//
//  1. Run opens a Scope; every unit of work is a scope child, so every stage body runs as a task
//     on a worker, and a stage that calls ParallelFor, Join, Scope or a kernel helps instead of
//     blocking a worker: nesting cannot deadlock.
//  2. Reading: the source is a serial stage of its own. A task claims it (srcIdle -> srcReading)
//     under the admission lock when the bounds leave room, reads one item, and then: an admitted
//     item spawns the next read if there is still room, and the task carries its item on (oneTBB's
//     "spawn the next input, continue with the current item"); an item that does not fit the byte
//     budget waits at the gate (srcBlocked) until a finishing item makes room.
//  3. Carrying: a task runs its item through parallel stages inline. At a serial stage it either
//     takes the stage (not busy, and for in-order the item is the next sequence number) or leaves
//     the item in the stage's stash and ends. The task that leaves a serial stage takes the next
//     stashed item that may run there and keeps the stage on its worker, while the item it just
//     finished goes on in a new task: a serial (stateful) stage never waits for a worker while
//     parallel work piles up (serial stages are preferred).
//  4. Finishing: an item that passed the last stage, or was dropped, releases its slot and bytes;
//     the release admits the gate item if it now fits and claims the source if there is room,
//     and the finishing task goes on with that work itself (a trampoline, not recursion).
//  5. Failure at item s (a stage error or panic, or the source's error): failSeq becomes
//     min(failSeq, s). The source is not called again, an item with a larger sequence number is
//     dropped at its next stage boundary, and the stashes and the gate are purged of such items;
//     items below s go on through every stage, so an in-order writer writes a complete prefix.
//     Cancellation is a failure at -1: every item is dropped.
//  6. The run ends when the scope has no child left; by then every item finished or was dropped
//     exactly once (each item is owned by exactly one task, stash or the gate at any time).
//
// Rejected: one goroutine per stage connected by channels (conc/stream's shape): a goroutine
// hand-off per item and stage costs more than the 500 ns budget, and the stages would run outside
// the pool, so a stage's ParallelFor would be an outside call. Long-lived token loops per worker
// (one task per token): a token waiting for a busy serial stage would block its worker.

// StageMode is how a stage runs its items. The values are the C ABI's VEDA_STAGE_* constants.
type StageMode int

const (
	// StageParallel runs any number of items at once, in any order.
	StageParallel StageMode = 0
	// StageSerialInOrder runs one item at a time, in sequence order without gaps (0, 1, 2, ...),
	// so the stage may keep state (a writer, a running checksum).
	StageSerialInOrder StageMode = 1
	// StageSerialOutOfOrder runs one item at a time, in any order.
	StageSerialOutOfOrder StageMode = 2
)

// String returns "parallel", "serial_in_order" or "serial_out_of_order".
func (m StageMode) String() string {
	switch m {
	case StageParallel:
		return "parallel"
	case StageSerialInOrder:
		return "serial_in_order"
	case StageSerialOutOfOrder:
		return "serial_out_of_order"
	}
	return fmt.Sprintf("stage_mode(%d)", int(m))
}

func (m StageMode) valid() bool { return m >= StageParallel && m <= StageSerialOutOfOrder }

// StageFunc is a stage's body: it gets the run's context (cancelled when the run is cancelled),
// the item's sequence number and the item, and returns the item that goes on (the same value or a
// new one). An error or a panic fails the item, and with it the run (see Pipeline.Run).
type StageFunc[T any] func(ctx context.Context, seq int64, item T) (T, error)

// PipelineOptions configure NewPipeline. The zero value is valid.
type PipelineOptions[T any] struct {
	// Name labels the pipeline in Metrics, JSON and Prometheus ("pipeline-N" if empty).
	Name string
	// MaxInFlight bounds the items alive (read and not finished or dropped). 0: the profile's
	// inflight_segments (Runtime.Profile). Negative is invalid.
	MaxInFlight int
	// MaxBytesInFlight bounds the declared bytes of the admitted items, the reorder stash
	// included; a single item larger than the budget is admitted alone. 0: the profile's memory
	// budget (available memory x mem_fraction).
	MaxBytesInFlight uint64
	// Bytes declares an item's size for the byte budget. It is called when the source produced
	// the item and again after every stage but a sink (a stage may change the size). Admission is decided on
	// the size at the source; an item that grows in a stage can take the count above the budget,
	// and the source then waits until it is back under. nil: every item is 0 bytes (only
	// MaxInFlight bounds the run).
	Bytes func(item T) uint64
	// Drop is called exactly once, from some worker, for every item that will not pass the last
	// stage (failure, cancellation, an early break out of All), so the caller can free it. A panic
	// in Drop is recovered and counted. nil: dropped items are left to the garbage collector.
	Drop func(seq int64, item T)
}

// StageOption adjusts one stage (Pipeline.Stage, Pipeline.Hybrid).
type StageOption func(*stageConfig)

type stageConfig struct {
	prio    Priority
	hasPrio bool
}

// StagePriority sets the scheduler priority of the tasks that carry items into the stage (default:
// the pipeline's priority). A PriorityNormal task spawned from a worker goes on that worker's deque;
// any other priority goes through the injector, ordered against other work by priority with aging.
// Serial stages are preferred independently of priorities: the worker that leaves a serial stage
// keeps it while items wait for it.
func StagePriority(p Priority) StageOption {
	return func(c *stageConfig) { c.prio, c.hasPrio = p, true }
}

// stage is one configured stage. Immutable after Stage returned.
type stage[T any] struct {
	name    string
	mode    StageMode
	fn      StageFunc[T]
	prio    Priority
	hasPrio bool
	hybrid  *hybridStage[T] // nil for CPU-only stages
	stats   *stageStats
}

// Pipeline is a linear chain of stages over items of type T: a source, then the stages in the
// order they were added; see the package-level model above and Run for the rules. Build it with
// NewPipeline and Stage (not while it runs), then Run it (or range over All) any number of times,
// one run at a time. All methods may be called from any goroutine.
//
// Cost per item, on top of the stage bodies: two admission-lock round trips, one CAS to enter and
// one to leave each serial stage (the stage's lock only when items wait in its stash), no
// allocation (items are recycled). Cheap items (under about 2 us of stage work) stay on the worker
// that read them, with no spawn: about 130 ns per item for a source, a parallel and an in-order
// stage in Go on a 2-core VM (BenchmarkPipelineOverhead). Items with more work spread over the
// workers: one task spawn per read-ahead and per serial-stage hand-off.
type Pipeline[T any] struct {
	rt    *Runtime
	name  string
	opts  PipelineOptions[T]
	stats *pipelineStats

	mu      sync.Mutex // guards stages, prio, cur
	stages  []*stage[T]
	prio    Priority
	cur     *prun[T]    // the run in progress, or nil
	topo    *graphTopo  // the edges of a Graph's compiled pipeline; nil for a linear chain
	running atomic.Bool // store under mu; load by Stage/Run: a run is in progress
}

// NewPipeline returns an empty pipeline on rt. Errors wrap ErrInvalidArgument: a nil rt or a
// negative MaxInFlight. Any goroutine; cheap (no task runs until Run).
func NewPipeline[T any](rt *Runtime, opts PipelineOptions[T]) (*Pipeline[T], error) {
	if rt == nil {
		return nil, invalidf("NewPipeline: rt is nil")
	}
	if opts.MaxInFlight < 0 {
		return nil, invalidf("NewPipeline: MaxInFlight is %d, must be >= 0", opts.MaxInFlight)
	}
	p := &Pipeline[T]{rt: rt, opts: opts, prio: PriorityNormal}
	p.stats, p.name = registerPipeline(rt, opts.Name)
	reg := pipelineRegistry(rt)
	st := p.stats
	runtime.AddCleanup(p, func(_ int) { reg.remove(st) }, 0)
	return p, nil
}

// Name returns the pipeline's metrics label.
func (p *Pipeline[T]) Name() string { return p.name }

// SetPriority sets the scheduler priority of the pipeline's tasks (default PriorityNormal); stages
// without StagePriority inherit it. Errors: an invalid priority wraps ErrInvalidArgument; a run in
// progress gives ErrInvalidArgument. Any goroutine.
func (p *Pipeline[T]) SetPriority(pr Priority) error {
	if !pr.valid() {
		return invalidf("Pipeline.SetPriority: priority %d is not a Priority constant", int(pr))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		return invalidf("Pipeline %q: SetPriority during a run", p.name)
	}
	p.prio = pr
	return nil
}

// Stage appends a stage. Errors wrap ErrInvalidArgument, and the pipeline is unchanged: a nil
// fn, an unknown mode, an invalid StagePriority, a name another stage has, or a run in progress.
// An empty name becomes "stage-<index>". Any goroutine.
func (p *Pipeline[T]) Stage(name string, mode StageMode, fn StageFunc[T], opts ...StageOption) error {
	if fn == nil {
		return invalidf("Pipeline %q: Stage %q: fn is nil", p.name, name)
	}
	return p.addStage(&stage[T]{name: name, mode: mode, fn: fn}, opts)
}

func (p *Pipeline[T]) addStage(s *stage[T], opts []StageOption) error {
	if !s.mode.valid() {
		return invalidf("Pipeline %q: Stage %q: mode %d is not a StageMode (0 parallel, 1 serial in order, 2 serial out of order)", p.name, s.name, int(s.mode))
	}
	var c stageConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.hasPrio && !c.prio.valid() {
		return invalidf("Pipeline %q: Stage %q: priority %d is not a Priority constant", p.name, s.name, int(c.prio))
	}
	s.prio, s.hasPrio = c.prio, c.hasPrio
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		return invalidf("Pipeline %q: Stage %q added during a run", p.name, s.name)
	}
	if s.name == "" {
		s.name = fmt.Sprintf("stage-%d", len(p.stages))
	}
	for _, o := range p.stages {
		if o.name == s.name {
			return invalidf("Pipeline %q: Stage %q: the name is taken by stage %d (metrics label stages by name)", p.name, s.name, o.stats.index)
		}
	}
	s.stats = p.stats.stage(len(p.stages), s.name, s.mode, p.rt.pool.Workers())
	p.stages = append(p.stages, s)
	return nil
}

// Stages returns the number of stages.
func (p *Pipeline[T]) Stages() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.stages)
}

// Cancel stops the run in progress: the source is not called again, every alive item is dropped
// (Drop is called for each), and Run returns an error wrapping ErrCancelled. A no-op when no run is
// in progress. Any goroutine, a stage included; returns at once.
func (p *Pipeline[T]) Cancel() {
	p.mu.Lock()
	r := p.cur
	p.mu.Unlock()
	if r != nil {
		r.cancelRun(fmt.Errorf("%w: pipeline %q cancelled", ErrCancelled, p.name))
	}
}

// Running reports whether a run is in progress. Any goroutine; a snapshot.
func (p *Pipeline[T]) Running() bool { return p.running.Load() /* load: snapshot only */ }

// Run reads src until it ends and passes every item through every stage; it blocks until the run
// ended and returns nil when every item passed the last stage. An item that passes the last stage
// is finished: the value the last stage returned is discarded (the last stage is the sink).
//
// Failure: when item s fails in a stage (an error or a panic) or the source fails at s, the source
// is not called again, items with sequence numbers below s still pass every stage, items above s
// are dropped, and Run returns a *PipelineError naming the stage, s and the cause (the failure
// with the smallest sequence number, if several). (An item above s that had already passed the
// last stage before s failed stays passed; that can only happen when the last stage is not
// serial in order. With an in-order last stage, such as a writer, no item above s passes it.) Cancellation (ctx, or Cancel) drops every alive
// item and returns an error wrapping ErrCancelled. Either way every item the source produced
// either passed the last stage exactly once or was given to Drop exactly once.
//
// Bad input wraps ErrInvalidArgument and runs nothing: no stage, an invalid src, or a run already
// in progress (a stage or source that runs its own pipeline gets this error, not a deadlock). A
// closed runtime gives ErrClosed.
//
// Any goroutine. Called from a task of the same runtime, the worker helps run the pipeline while
// it waits, so pipelines nest. The source and the stages run on workers; a source that blocks
// (a channel receive) holds one worker while it waits.
func (p *Pipeline[T]) Run(ctx context.Context, src Source[T]) error {
	r, err := p.start(ctx, src, nil, nil)
	if err != nil {
		return err
	}
	return r.wait()
}

// start validates and begins a run; emit (may be nil) receives finished items instead of releasing
// them, and wake is called when a failure bounds the run (All). The caller must call r.wait. Any
// goroutine.
func (p *Pipeline[T]) start(ctx context.Context, src Source[T], emit func(*pitem[T]), wake func()) (*prun[T], error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if src.open == nil {
		return nil, invalidf("Pipeline %q: Run: the source is nil (use SourceSeq, SourceChan or SourceFunc)", p.name)
	}
	if err := p.rt.checkOpen(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.cur != nil {
		p.mu.Unlock()
		return nil, invalidf("Pipeline %q: Run while a run is in progress (a pipeline runs once at a time; a stage must not run its own pipeline)", p.name)
	}
	if len(p.stages) == 0 {
		p.mu.Unlock()
		return nil, invalidf("Pipeline %q: Run with no stage", p.name)
	}
	maxItems, maxBytes := p.bounds()
	r := &prun[T]{p: p, rt: p.rt, stages: append([]*stage[T](nil), p.stages...), maxItems: maxItems, maxBytes: maxBytes,
		bytesOf: p.opts.Bytes, drop: p.opts.Drop, emit: emit, wake: wake, prio: p.prio, errSeq: math.MaxInt64}
	if emit != nil {
		r.quiet = make(chan struct{})
	}
	p.cur = r
	p.running.Store(true) // store: snapshot for Running
	p.mu.Unlock()

	r.failSeq.Store(noFail) // store: before any task of the run exists
	r.purged.Store(noFail)  // store: same
	r.setTopology(p.topo)
	r.ser = make([]serialState[T], len(r.stages))
	r.prios = make([]Priority, len(r.stages))
	for i, s := range r.stages {
		r.ser[i].inOrder = s.mode == StageSerialInOrder
		r.prios[i] = r.prio
		if s.hasPrio {
			r.prios[i] = s.prio
		}
	}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	r.next, r.closeSrc = src.open()
	r.done = make(chan error, 1)
	p.stats.runStarted(maxItems, maxBytes)
	unwatch := context.AfterFunc(ctx, func() { r.cancelRun(ctxErr(ctx)) })
	// The scope's own context is Background: skipping unstarted children (what a cancelled
	// scope does) would lose items; cancellation goes through failSeq instead.
	go_ := func() {
		err := p.rt.Scope(context.Background(), func(s *Scope) {
			r.scope = s
			r.mu.Lock()
			claimed := r.claimSourceLocked()
			r.mu.Unlock()
			if claimed {
				r.spawnRead()
			}
			if r.quiet != nil {
				// All: items wait for the consumer outside any task, so the scope is held open
				// until every item was released (the consumer's releases spawn follow-ups).
				<-r.quiet
			}
		})
		unwatch()
		r.closeSrc()
		r.cancel(nil)
		if err == nil {
			err = r.result()
		}
		if err == nil && ctx.Err() != nil {
			// Cancelled after the last item passed but before the watch fired: still a
			// cancelled run for the caller, as errgroup reports it.
			err = ctxErr(ctx)
		}
		p.mu.Lock()
		p.cur = nil
		p.running.Store(false) // store: snapshot for Running
		p.mu.Unlock()
		r.done <- err
	}
	if emit != nil {
		go go_() // All: the consumer iterates on the calling goroutine
	} else {
		go_()
	}
	return r, nil
}

// bounds returns the run's bounds: the options, else the profile's defaults. Caller holds p.mu.
func (p *Pipeline[T]) bounds() (int64, uint64) {
	items, bytes := int64(p.opts.MaxInFlight), p.opts.MaxBytesInFlight
	if items == 0 || bytes == 0 {
		di, db := p.rt.pipelineDefaults()
		if items == 0 {
			items = di
		}
		if bytes == 0 {
			bytes = db
		}
	}
	return items, bytes
}

// timeSample: one item in timeSample has its stage times measured (see runStage).
const timeSample = 32

// noFail is failSeq's value while nothing failed.
const noFail = math.MaxInt64

// pitem is one item in flight. Owned by exactly one task, stash or the gate at any time.
type pitem[T any] struct {
	seq      int64
	v        T
	bytes    uint64    // declared size (counted in prun.bytes once admitted)
	admitted bool      // its bytes are counted in prun.bytes
	enq      int64     // rt.now() when it began to wait for a stage; 0 if it is not waiting
	key      int64     // the order at the current stage: seq*paths + pidx (seq in a linear pipeline)
	pidx     int64     // which of the paths from the source to the current stage it came by
	grp      *pgroup   // the copies of the same source item (a graph's fan-out), or nil
	nextFree *pitem[T] // the next item on the run's free list (prun.free), while it is on it
}

// Source states (prun.src). Transitions under prun.mu.
const (
	srcIdle    = iota // nobody reads; a task may claim the source when the bounds leave room
	srcReading        // one task is calling the source
	srcBlocked        // the last item read waits at the gate for room in the byte budget
	srcDone           // ended, failed, or stopped by a failure or cancellation
)

// prun is one run of a pipeline.
type prun[T any] struct {
	p        *Pipeline[T]
	rt       *Runtime
	ctx      context.Context // given to the source and the stages; cancelled by cancelRun
	cancel   context.CancelCauseFunc
	scope    *Scope
	stages   []*stage[T]
	ser      []serialState[T] // per stage; used by serial stages only
	prios    []Priority       // per stage: the priority of tasks carrying items into it
	succ     [][]int          // succ[k+1]: the stages after stage k (succ[0]: after the source)
	offs     [][]int64        // offs[k+1][i]: the path-index offset along the edge to succ[k+1][i]
	paths    []int64          // per stage: the number of paths from the source to it
	copyFn   func(T) T        // a graph's copy function for fan-out (nil: assignment)
	prio     Priority         // the pipeline's: read tasks
	maxItems int64
	maxBytes uint64
	bytesOf  func(T) uint64
	drop     func(int64, T)
	emit     func(*pitem[T])
	wake     func()        // All: the consumer must look at failSeq again; nil otherwise
	quiet    chan struct{} // All: closed when no item is alive and the source is done
	next     func(context.Context, int64) (T, bool, error)
	closeSrc func()
	done     chan error

	// failSeq is the smallest sequence number that failed (noFail: none; -1: cancelled). Items
	// with a larger sequence number are dropped. CAS-min by fail (seq-cst); loads by every stage
	// boundary; a stale load only delays a drop to the next boundary, and the stash purge in
	// fail catches items that were stashed meanwhile (see serialState.enter).
	failSeq atomic.Int64
	purged  atomic.Int64 // the last failSeq value purged (noFail: none); CAS by maybePurge

	errMu  sync.Mutex
	err    error // the failure with the smallest sequence number; guarded by errMu
	errSeq int64 // guarded by errMu

	// Written once per 32 items; kept off failSeq's line, which every stage boundary reads.
	workNs atomic.Int64 // sampled stage time (all stages), for readAhead
	workN  atomic.Int64 // sampled items (at stage 0), for readAhead

	// Admission. Every read and every release takes mu, on whichever worker it runs, so these
	// fields are the state that moves between cores with each item: they fill one cache line
	// (57 bytes from a 64-byte boundary; a prun is over 512 bytes, so the allocator places it
	// 64-byte aligned; TestPipelineAdmissionLine checks both), padded off the fields above and
	// the objects after the run, and the free list is linked through the items (no slice header
	// and backing array on other lines).
	_           [96]byte
	mu          sync.Mutex // guards the fields below
	src         int32      // srcIdle..srcDone
	nfree       int32      // items on the free list
	alive       int64      // items read and not finished or dropped (the gate item included)
	bytes       uint64     // declared bytes of admitted items
	seq         int64      // the sequence number of the next item the source produces
	gate        *pitem[T]  // the item waiting for byte room (src == srcBlocked), or nil
	free        *pitem[T]  // ended items, linked by nextFree, recycled by newItemLocked
	quietClosed bool
	_           [64]byte
}

// checkQuietLocked closes quiet (All) once no item is alive and the source is done. Caller holds r.mu.
func (r *prun[T]) checkQuietLocked() {
	if r.quiet != nil && !r.quietClosed && r.alive == 0 && r.src == srcDone {
		r.quietClosed = true
		close(r.quiet)
	}
}

// claimSourceLocked moves the source from idle to reading if the bounds leave room. Caller holds
// r.mu; on true the caller must run or spawn a read.
func (r *prun[T]) claimSourceLocked() bool {
	if r.src != srcIdle {
		return false
	}
	if r.failSeq.Load() != noFail { // load: a failure stops the source
		r.src = srcDone
		r.checkQuietLocked()
		return false
	}
	if r.alive >= r.maxItems || (r.alive > 0 && r.bytes >= r.maxBytes) {
		return false
	}
	r.src = srcReading
	return true
}

// spawnRead starts a task that reads one item. Any task of the run (the source is claimed).
func (r *prun[T]) spawnRead() {
	r.scope.SpawnPriority(r.prio, func() error { r.work(nil, -1, true); return nil })
}

// spawnCarry starts a task that carries it into stage k (k >= 0). Any task of the run.
func (r *prun[T]) spawnCarry(it *pitem[T], k int) {
	r.stages[k].stats.queued(1)
	it.enq = -1 // waiting, not timed (see runStage)
	if it.seq%timeSample == 0 {
		it.enq = r.rt.pool.Now()
	}
	r.scope.SpawnPriority(r.prios[k], func() error { r.work(it, k, false); return nil })
}

// work is a task body: it reads (if read), carries the item through the stages, and goes on with
// whatever its releases handed back (an admitted gate item, a claimed source) until none is left.
// k is the stage it enters, or -1 for an item fresh from the source.
func (r *prun[T]) work(it *pitem[T], k int, read bool) {
	for first := true; ; first = false {
		if !first && r.rt.cfg.CgoBodies {
			// One task may carry many items: a rescheduling point between them (cgo_bodies.go).
			if w := r.rt.current(); w != nil {
				w.Progress()
			}
		}
		if read {
			it, read = r.read(), false
			k = -1
		}
		if it == nil {
			return
		}
		if k < 0 {
			k = r.forward(it, -1)
		} else if it.enq != 0 {
			r.stages[k].stats.queued(-1)
		}
		it, read = r.carry(it, k)
		k = -1
	}
}

// forward moves it along the edges out of stage k (-1: the source) and returns the stage it
// enters next, or -1 when k is a sink (it is finished). With several edges (a graph's fan-out),
// the other successors get copies, each carried by a new task. A task of the run.
func (r *prun[T]) forward(it *pitem[T], k int) int {
	succ, offs := r.succ[k+1], r.offs[k+1]
	switch len(succ) {
	case 0:
		return -1
	case 1:
		it.pidx += offs[0]
		return succ[0]
	}
	g := it.grp
	if g == nil {
		g = &pgroup{bytes: it.bytes, admitted: it.admitted}
		g.n.Store(1) // store: before any copy exists
		it.grp, it.admitted = g, false
	}
	for i := len(succ) - 1; i >= 1; i-- {
		v := it.v
		if r.copyFn != nil {
			v = r.copyFn(it.v)
		}
		c := &pitem[T]{seq: it.seq, v: v, bytes: it.bytes, pidx: it.pidx + offs[i], grp: g}
		g.n.Add(1) // add: one more copy alive; the copy's release takes it back
		r.spawnCarry(c, succ[i])
	}
	it.pidx += offs[0]
	return succ[0]
}

// pgroup ties the copies of one source item made by a graph's fan-out: the item's slot and
// bytes are released when its last copy finished or was dropped.
type pgroup struct {
	n        atomic.Int32 // copies alive; add-release by each copy's end, the one reaching 0 releases
	bytes    uint64       // the item's admitted bytes (fixed at the first fan-out)
	admitted bool
}

// read calls the source once (the caller claimed it) and returns the item to carry, or nil.
func (r *prun[T]) read() *pitem[T] {
	seq := r.seq // owned by the claiming task until it releases the source below
	v, ok, err := r.callSource(seq)
	r.mu.Lock()
	if err != nil || !ok {
		r.src = srcDone
		r.checkQuietLocked()
		r.mu.Unlock()
		if err != nil {
			r.fail(seq, -1, "source", err)
		}
		return nil
	}
	r.seq++
	it := r.newItemLocked(seq, v)
	if r.bytesOf != nil {
		it.bytes = r.sizeOf(it)
	}
	r.alive++
	r.p.stats.readLocked(r.alive)
	if rec := r.rt.pool.Tracer(); rec != nil {
		traceInFlight(rec, r.rt.pool.Now(), r.p.name, r.alive, r.bytes+it.bytes)
	}
	if r.failSeq.Load() != noFail { // load: stopped while we read; the item is not admitted
		r.src = srcDone
		r.mu.Unlock()
		if n, rd := r.dropItem(it); n != nil || rd {
			r.after(n, rd)
		}
		return nil
	}
	if r.bytes+it.bytes > r.maxBytes && r.alive > 1 {
		r.gate, r.src = it, srcBlocked
		r.mu.Unlock()
		return nil
	}
	r.admitLocked(it)
	r.src = srcIdle
	// Read ahead in a new task only when a worker is free to run it and the items carry enough
	// work to pay for the hand-off to another worker (readAhead); otherwise this task reads the next item
	// itself when it is done with this one (release, or a stash, claims the source), which keeps
	// cheap items on one worker with no cross-worker traffic.
	more := r.readAhead() && r.claimSourceLocked()
	r.mu.Unlock()
	if more {
		r.spawnRead()
	}
	return it
}

// readAhead reports whether a read task should be spawned for the next item. While fewer than
// readAheadWarmup items were timed it always is: the first items spread over the workers whatever
// the pool looks like at that instant, so a stage that blocks in its body from the start (a C
// callback waiting for a second item) does not hold the only item while the source sits
// unclaimed. After that: a worker is free to run it (parked, searching, waking up, or let go by
// the adaptive policy, which resumes it once work is queued), and the stage bodies measured so
// far take at least readAheadWork per item. (Spawning whenever the work is large enough, busy
// pool or not, measured 10-15% slower with 5 us items on 2 workers through the C ABI.) Any task
// of the run.
func (r *prun[T]) readAhead() bool {
	n := r.workN.Load() // load: sampled items so far (a heuristic, no ordering role)
	if n < readAheadWarmup {
		return true
	}
	pool := r.rt.pool
	if pool.IdleWorkers() == 0 && pool.Active() >= pool.Workers() {
		return false
	}
	return r.workNs.Load()/n >= readAheadWork
}

// Read-ahead heuristic (see readAhead): items whose stages take less than readAheadWork in all
// stay on the worker that read them; the first readAheadWarmup timed items always spread.
const (
	readAheadWork   = 2000 // ns of stage work per item
	readAheadWarmup = 4
)

// admitLocked counts it in the byte budget. Caller holds r.mu.
func (r *prun[T]) admitLocked(it *pitem[T]) {
	it.admitted = true
	r.bytes += it.bytes
	r.p.stats.peakBytesLocked(r.bytes)
}

// newItemLocked returns a cleared item from the run's free list (or a new one) holding seq and v.
// Caller holds r.mu.
func (r *prun[T]) newItemLocked(seq int64, v T) *pitem[T] {
	it := r.free
	if it != nil {
		r.free, it.nextFree = it.nextFree, nil
		r.nfree--
	} else {
		it = new(pitem[T])
	}
	it.seq, it.v = seq, v
	return it
}

// recycleLocked clears it (so that its value can be collected) and keeps it for the next read.
// Every item is owned by exactly one task, stash or the gate, so once it ended nobody else holds
// it. Caller holds r.mu.
func (r *prun[T]) recycleLocked(it *pitem[T]) {
	*it = pitem[T]{}
	if r.nfree < maxFreeItems {
		it.nextFree, r.free = r.free, it
		r.nfree++
	}
}

// maxFreeItems bounds a run's free list of items (it holds about the items alive at once).
const maxFreeItems = 256

// carry runs it from stage k on, then finishes it; it returns the follow-up work of the final
// release (see release). A task of the run.
func (r *prun[T]) carry(it *pitem[T], k int) (*pitem[T], bool) {
	for k >= 0 {
		if it.seq >= r.failSeq.Load() { // load: see failSeq
			return r.dropItem(it)
		}
		st := r.stages[k]
		it.key = it.seq*r.paths[k] + it.pidx
		if st.mode == StageParallel {
			if !r.runStage(it, k) {
				return r.dropItem(it)
			}
			k = r.forward(it, k)
			continue
		}
		ss := &r.ser[k]
		switch ss.enter(r, it, k) {
		case enterStashed:
			// The item waits for the stage; this task is free: it reads next if there is room.
			r.mu.Lock()
			read := r.claimSourceLocked()
			r.mu.Unlock()
			return nil, read
		case enterDrop:
			return r.dropItem(it)
		}
		for {
			ok := r.runStage(it, k)
			h, drops := ss.leave(r, it, k)
			r.dropAll(drops)
			if h == nil {
				if !ok {
					return r.dropItem(it)
				}
				break
			}
			// The next stashed item runs here at once (this worker keeps the serial stage); the
			// item that just left goes on in its own task.
			if !ok {
				r.after(r.dropItem(it))
			} else if nk := r.forward(it, k); nk < 0 {
				r.after(r.finish(it))
			} else {
				r.spawnCarry(it, nk)
			}
			it = h
		}
		k = r.forward(it, k)
	}
	return r.finish(it)
}

// after spawns the follow-up work of a release that the caller cannot run inline.
func (r *prun[T]) after(it *pitem[T], read bool) {
	if read {
		r.spawnRead()
	}
	if it != nil {
		if k := r.forward(it, -1); k >= 0 {
			r.spawnCarry(it, k)
		}
	}
}

// runStage runs stage k on it; false means the item failed (the run's failure is recorded; the
// caller drops the item).
func (r *prun[T]) runStage(it *pitem[T], k int) bool {
	st := r.stages[k]
	// Busy and wait times are measured on one item in timeSample (by sequence number) and
	// scaled: two clock reads per stage call would cost a fifth of the per-item budget. With a
	// tracer on, every stage call is timed (its slice goes into the trace).
	sampled := it.seq%timeSample == 0
	rec := r.rt.pool.Tracer()
	timed := sampled || rec != nil
	var start int64
	if timed {
		start = r.rt.pool.Now()
		if sampled && it.enq > 0 {
			st.stats.waited(timeSample * (start - it.enq))
		}
	}
	it.enq = 0
	out, err := r.callStage(st, it)
	if timed {
		end := r.rt.pool.Now()
		if sampled {
			d := end - start
			st.stats.ran(timeSample * d)
			// The read-ahead estimate: stage work per item (a stage's time added per timed item
			// of stage 0, so the sum over stages per item is approximated).
			r.workNs.Add(d) // add: heuristic counter
			if k == 0 {
				r.workN.Add(1) // add: heuristic counter
			}
		}
		if rec != nil {
			r.rt.traceStage(rec, r.p.name, st.name, it.seq, start, end)
		}
	}
	// No read-modify-write: a parallel stage counts in the running worker's slot, a serial one
	// by its one holder at a time (each holder's turn happens after the previous one's:
	// serialState's lock hand-off).
	wid := -1
	if st.mode == StageParallel {
		if w := r.rt.current(); w != nil {
			wid = w.ID()
		}
	}
	st.stats.ranItem(wid)
	if err != nil {
		st.stats.failed.Add(1)
		r.fail(it.seq, k, st.name, err)
		return false
	}
	it.v = out
	// An item that passed a sink is finished: its size no longer counts (release subtracts the
	// size that was counted), so Bytes is not asked again.
	if r.bytesOf != nil && it.grp == nil && len(r.succ[k+1]) > 0 {
		if nb := r.sizeOf(it); nb != it.bytes {
			r.mu.Lock()
			if it.admitted {
				r.bytes = r.bytes - it.bytes + nb
				r.p.stats.peakBytesLocked(r.bytes)
			}
			it.bytes = nb
			r.mu.Unlock()
		}
	}
	return true
}

// finish ends an item that passed the last stage.
func (r *prun[T]) finish(it *pitem[T]) (*pitem[T], bool) {
	if r.emit != nil {
		r.emit(it) // released when the consumer takes it (All)
		return nil, false
	}
	return r.release(it, true)
}

// dropItem gives it to Drop and releases it.
func (r *prun[T]) dropItem(it *pitem[T]) (*pitem[T], bool) {
	if r.drop != nil {
		_ = callErr(r.rt.pool, func() error { r.drop(it.seq, it.v); return nil })
	}
	return r.release(it, false)
}

// dropAll drops items that a purge or a stage hand-off removed; their follow-ups run in new tasks.
func (r *prun[T]) dropAll(items []*pitem[T]) {
	for _, it := range items {
		r.after(r.dropItem(it))
	}
}

// release ends it (passed: it passed the last stage; else it was dropped), frees its slot and
// bytes and returns the follow-up work: the gate item if it now fits (admitted; carry it from
// stage 0) and whether the caller claimed the source (read next). it is recycled: the caller must
// not touch it after the call. Any task of the run (or All's consumer); the caller runs or spawns
// the follow-ups.
func (r *prun[T]) release(it *pitem[T], passed bool) (*pitem[T], bool) {
	r.maybePurge()
	admitted, bytes := it.admitted, it.bytes
	if g := it.grp; g != nil {
		if g.n.Add(-1) != 0 { // add (acq-rel): the last copy of the item releases it
			r.mu.Lock()
			r.p.stats.endedLocked(passed)
			r.recycleLocked(it)
			r.mu.Unlock()
			return nil, false
		}
		admitted, bytes = g.admitted, g.bytes
	}
	r.mu.Lock()
	r.p.stats.endedLocked(passed)
	r.recycleLocked(it)
	r.alive--
	if admitted {
		r.bytes -= bytes
	}
	var g *pitem[T]
	if r.gate != nil && (r.bytes+r.gate.bytes <= r.maxBytes || r.alive == 1) {
		g, r.gate = r.gate, nil
		r.admitLocked(g)
		r.src = srcIdle
	}
	read := r.claimSourceLocked()
	r.checkQuietLocked()
	r.mu.Unlock()
	if g != nil && read {
		r.spawnRead()
		read = false
	}
	return g, read
}

// fail records a failure of item seq in stage k (-1: the source; -2: a cancellation, cause is the
// error as is). It only publishes the bound: the items it drops are dropped by the run's tasks
// (maybePurge, stage boundaries), so that no Drop call and no spawn happens outside the run's
// scope, even when fail is called from a context's AfterFunc or from Cancel. Any goroutine.
func (r *prun[T]) fail(seq int64, k int, name string, cause error) {
	var err error
	if k == -2 {
		err = cause
	} else {
		err = &PipelineError{Pipeline: r.p.name, Stage: name, StageIndex: k, Seq: seq, Err: cause}
	}
	// The error first, then the bound: a run that stops because it saw the bound must find the
	// error when it ends (found in the final test run of 2026-12-02: a Cancel's bound stopped the
	// run, which then ended and read no error before Cancel stored it, so Run returned nil for an
	// endless source; about 1 run in 300 of TestPipelineCancel on a loaded 2-vCPU VM).
	r.errMu.Lock()
	if seq < r.errSeq {
		r.err, r.errSeq = err, seq
	}
	r.errMu.Unlock()
	for {
		cur := r.failSeq.Load() // load: CAS-min loop
		if seq >= cur {
			break
		}
		if r.failSeq.CompareAndSwap(cur, seq) { // CAS (seq-cst): publishes the new bound; see maybePurge
			break
		}
	}
	if r.wake != nil {
		r.wake()
	}
}

// cancelRun cancels the run: a failure at -1 (everything is dropped) and the stages' context.
// Any goroutine.
func (r *prun[T]) cancelRun(cause error) {
	r.fail(-1, -2, "", cause)
	r.cancel(cause)
}

// maybePurge purges the stashes and the gate once per new failure bound. Tasks of the run only.
//
// Why every stale item is purged: while items are alive, some task of the run exists (the
// smallest alive item is carried by a task, or waits for a busy serial stage whose holder is a
// task; a gate item alone is admitted at once), and every task ends its items with a release, which
// calls maybePurge. enter checks failSeq under the stage's lock and the purge takes that lock after
// loading failSeq, so an item is either refused by enter or seen by the purge.
func (r *prun[T]) maybePurge() {
	fs := r.failSeq.Load() // load (seq-cst): pairs with the CAS in fail
	if fs == noFail {
		return
	}
	done := r.purged.Load()                               // load: the last purged bound
	if done == fs || !r.purged.CompareAndSwap(done, fs) { // CAS: one task purges per bound
		return
	}
	r.purge(fs)
}

// purge drops the stashed and gated items above fs. Tasks of the run only (see maybePurge).
func (r *prun[T]) purge(fs int64) {
	for k := range r.ser {
		if r.stages[k].mode == StageParallel {
			continue
		}
		r.dropAll(r.ser[k].purge(fs, r.stages[k].stats))
	}
	r.mu.Lock()
	g := r.gate
	if g != nil && g.seq >= fs {
		r.gate = nil
	} else {
		g = nil
	}
	if r.src == srcIdle || r.src == srcBlocked && g != nil {
		r.src = srcDone
	}
	r.checkQuietLocked()
	r.mu.Unlock()
	if g != nil {
		r.dropAll([]*pitem[T]{g})
	}
}

// result is the run's error after it ended.
func (r *prun[T]) result() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// wait blocks until the run ended and returns its error. The goroutine that started it.
func (r *prun[T]) wait() error { return <-r.done }

// callSource calls the source, converting a panic into a *PanicError.
func (r *prun[T]) callSource(seq int64) (v T, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(r.rt.pool, p)
		}
	}()
	return r.next(r.ctx, seq)
}

// callStage calls st's body, converting a panic into a *PanicError.
func (r *prun[T]) callStage(st *stage[T], it *pitem[T]) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(r.rt.pool, p)
		}
	}()
	if st.hybrid != nil {
		return st.hybrid.run(r.ctx, r.rt, st, it.seq, it.v, it.bytes)
	}
	return st.fn(r.ctx, it.seq, it.v)
}

// sizeOf calls Bytes, treating a panic as size 0 (counted as a task panic).
func (r *prun[T]) sizeOf(it *pitem[T]) (n uint64) {
	defer func() {
		if p := recover(); p != nil {
			_ = newPanicError(r.rt.pool, p)
			n = 0
		}
	}()
	return r.bytesOf(it.v)
}

// PipelineError is a pipeline run's failure: item Seq failed in stage StageIndex (named Stage),
// or the source failed at Seq (StageIndex -1, Stage "source"). errors.Is(e, ErrTaskFailed) holds,
// and errors.Is/As also see Err.
type PipelineError struct {
	Pipeline   string
	Stage      string
	StageIndex int
	Seq        int64
	Err        error
}

// Error returns "veda: pipeline "p": stage 1 ("seal") failed at item 7: <cause>".
func (e *PipelineError) Error() string {
	if e.StageIndex < 0 {
		return fmt.Sprintf("veda: pipeline %q: the source failed at item %d: %v", e.Pipeline, e.Seq, e.Err)
	}
	return fmt.Sprintf("veda: pipeline %q: stage %d (%q) failed at item %d: %v", e.Pipeline, e.StageIndex, e.Stage, e.Seq, e.Err)
}

// Is reports whether target is ErrTaskFailed.
func (e *PipelineError) Is(target error) bool { return target == ErrTaskFailed }

// Unwrap returns Err.
func (e *PipelineError) Unwrap() error { return e.Err }

// graphTopo is the edge structure of a compiled Graph (pipeline_graph.go): stage indexes are the
// graph's nodes in topological order.
type graphTopo struct {
	succ   [][]int
	offs   [][]int64
	paths  []int64
	copyFn any // func(T) T of the graph's item type, or nil
}

// setTopology installs the run's edges: the graph's, or a linear chain.
func (r *prun[T]) setTopology(t *graphTopo) {
	n := len(r.stages)
	if t != nil {
		r.succ, r.offs, r.paths = t.succ, t.offs, t.paths
		if f, ok := t.copyFn.(func(T) T); ok {
			r.copyFn = f
		}
		return
	}
	r.succ = make([][]int, n+1)
	r.offs = make([][]int64, n+1)
	r.paths = make([]int64, n)
	zero := []int64{0}
	for k := 0; k <= n; k++ {
		if k < n {
			r.succ[k] = []int{k}
			r.offs[k] = zero
			r.paths[k] = 1
		}
	}
}
