package sched

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Deterministic record and replay.
//
// Under goveda's deterministic policy the split tree of every loop is fixed by (range, grain),
// so a task can be named by where it comes from: the task that pushed it, how many tasks that
// task had pushed before, and its range. That name (Task.id) is the same in every run of the
// same program. Recording logs, per worker, the ids of the tasks it ran, in order, and where each
// came from (its own deque, the injector, or the victim of a steal). Replaying forces that
// placement and order: pushes and injections go into a registry instead of the queues, and each
// worker takes exactly the next task of its log, waiting for it to be created rather than
// stealing. The replay's own recording therefore equals the original.
//
// A schedule that does not fit the program is detected, not hung on:
//   - a task whose id is not in the schedule is created (other range, grain or structure):
//     the replay fails at once;
//   - every worker waits for its next task for replayStall while created tasks wait in the
//     registry that nobody's log names next (another interleaving of outside callers, say).
// A failed replay moves the registered tasks to the injector and the pool schedules normally
// from then on, so the program finishes; the error is reported (ReplayError) and returned once
// by the next outside call that finishes (goveda's runRoot).
//
// Ids: id = mix(parent id, child index, key); root tasks (injected from outside) use a per-pool
// counter as parent. Outside callers must submit in a deterministic order (one thread) for root
// ids to be stable.

// Schedule is a recorded schedule: per worker, the tasks it ran in order.
type Schedule struct {
	Workers int     `json:"workers"`
	Runs    [][]Run `json:"runs"`
}

// Run is one task run by a worker.
type Run struct {
	ID   uint64 // the task's stable id
	From int    // FromOwn, FromInjector, or the index of the worker it was stolen from
}

// Where a run's task came from.
const (
	FromOwn      = -1 // the worker's own deque, or run inline by JoinTask
	FromInjector = -2 // the pool's injector (an outside call or Submit)
)

// Keyed is implemented by jobs whose id includes a key (loop chunks: their range).
type Keyed interface {
	ScheduleKey() uint64
}

// replayStall is how long every worker may wait with created tasks that nobody's log names next
// before the replay is declared a mismatch.
const replayStall = time.Second

// ErrSchedule is wrapped by schedule errors (corrupt or foreign files, mismatches).
var ErrSchedule = errors.New("veda: schedule")

// detState is a pool's record/replay state; nil without either.
type detState struct {
	record  bool
	logs    [][]Run       // per worker; owner-only append while running; read after the workers stopped
	rootSeq atomic.Uint64 // add: root-task counter; no ordering role beyond uniqueness

	replay *Schedule           // nil: recording only
	known  map[uint64]struct{} // every id of replay; read-only

	mu       sync.Mutex
	cond     *sync.Cond       // on mu: a task was registered or finished, the replay failed, or the pool stops
	reg      map[uint64]*Task // created, not yet taken; guarded by mu
	pos      []int            // per worker, the next index into replay.Runs; guarded by mu
	waiting  int              // workers blocked in cond.Wait; guarded by mu
	progress uint64           // tasks taken; guarded by mu
	err      error            // the mismatch; guarded by mu
	failed   atomic.Bool      // store (seq-cst) under mu by fail; loaded by fast paths: once true, schedule normally
	reported atomic.Bool      // CompareAndSwap: the error is returned by one outside call
	quit     chan struct{}    // closed at shutdown: stops the watchdog
}

func (d *detState) replaying() bool { return d.replay != nil && !d.failed.Load() }

// mix derives a child's id.
func mix(parent, kid, key uint64) uint64 {
	return splitmix(parent ^ splitmix(kid*0x9E3779B97F4A7C15+key))
}

func keyOf(t *Task) uint64 {
	if k, ok := t.Job.(Keyed); ok {
		return k.ScheduleKey()
	}
	return 0
}

// newDet builds the state for Options.RecordSchedule / ReplaySchedule.
func newDet(o Options) (*detState, error) {
	if !o.RecordSchedule && o.ReplaySchedule == nil {
		return nil, nil
	}
	d := &detState{record: o.RecordSchedule, logs: make([][]Run, o.Workers), quit: make(chan struct{})}
	if s := o.ReplaySchedule; s != nil {
		if s.Workers != o.Workers || len(s.Runs) != o.Workers {
			return nil, fmt.Errorf("%w: the schedule was recorded with %d workers, this runtime has %d", ErrSchedule, s.Workers, o.Workers)
		}
		d.replay = s
		d.known = map[uint64]struct{}{}
		for _, runs := range s.Runs {
			for _, r := range runs {
				d.known[r.ID] = struct{}{}
			}
		}
		d.reg = map[uint64]*Task{}
		d.pos = make([]int, o.Workers)
		d.cond = sync.NewCond(&d.mu)
	}
	return d, nil
}

// assignID names t as the next child of the task w runs (w nil: a root task). det only.
func (p *Pool) assignID(w *Worker, t *Task) {
	d := p.det
	if w != nil {
		t.id = mix(w.cur, w.kids, keyOf(t))
		w.kids++
		return
	}
	t.id = mix(0, d.rootSeq.Add(1), keyOf(t))
}

// register puts t into the replay registry; false when the replay has failed (schedule t
// normally). A t the schedule does not know fails the replay. Any goroutine.
func (p *Pool) register(t *Task) bool {
	d := p.det
	d.mu.Lock()
	if d.failed.Load() {
		d.mu.Unlock()
		return false
	}
	if _, ok := d.known[t.id]; !ok {
		d.failLocked(p, fmt.Errorf("%w: replay mismatch: the program created a task (id %016x) that the recorded schedule does not have: the schedule is for another program, input size, grain or worker count", ErrSchedule, t.id))
		d.mu.Unlock()
		return false
	}
	d.reg[t.id] = t
	d.cond.Broadcast()
	d.mu.Unlock()
	return true
}

// failLocked ends the replay: the registered tasks go to the injector and everyone is woken.
// Caller holds d.mu.
func (d *detState) failLocked(p *Pool, err error) {
	if d.failed.Load() {
		return
	}
	d.err = err
	d.failed.Store(true) // store (seq-cst): fast paths stop replaying
	for id, t := range d.reg {
		p.inj.push(t, 2, 0, p.now())
		delete(d.reg, id)
	}
	d.cond.Broadcast()
	for _, w := range p.workers {
		w.wake()
	}
}

// broadcast wakes replaying waiters (a context was cancelled). Any goroutine.
func (d *detState) broadcast() {
	d.mu.Lock()
	d.cond.Broadcast()
	d.mu.Unlock()
}

// replayTake returns w's next recorded task once it exists (setting w.src to where the
// recording says it came from), or nil when l (may be nil) is set, done (may be nil) reports
// true, the replay failed, or the pool stops. Owner only.
func (w *Worker) replayTake(l *Latch, done func() bool) *Task {
	p, d := w.p, w.p.det
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.failed.Load() || (l != nil && l.Probe()) || (done != nil && done()) {
			return nil
		}
		runs := d.replay.Runs[w.id]
		if d.pos[w.id] < len(runs) {
			if t := d.reg[runs[d.pos[w.id]].ID]; t != nil {
				w.src = runs[d.pos[w.id]].From
				delete(d.reg, t.id)
				d.pos[w.id]++
				d.progress++
				return t
			}
		}
		if p.stopping.Load() && l == nil {
			return nil
		}
		d.waiting++
		d.cond.Wait()
		d.waiting--
	}
}

// watchdog fails a replay that cannot go on (see replayStall). Its own goroutine.
func (p *Pool) watchdog() {
	d := p.det
	tick := time.NewTicker(replayStall / 10)
	defer tick.Stop()
	var last uint64
	stalled := 0
	for {
		select {
		case <-d.quit:
			return
		case <-tick.C:
		}
		d.mu.Lock()
		if d.failed.Load() {
			d.mu.Unlock()
			return
		}
		if d.progress == last && len(d.reg) > 0 && d.waiting == len(p.workers) {
			stalled++
		} else {
			stalled = 0
		}
		last = d.progress
		if stalled >= 10 {
			next := ""
			for i, runs := range d.replay.Runs {
				if d.pos[i] < len(runs) {
					next += fmt.Sprintf(" worker %d waits for its run #%d (task %016x);", i, d.pos[i], runs[d.pos[i]].ID)
				} else {
					next += fmt.Sprintf(" worker %d has run all %d recorded tasks;", i, len(runs))
				}
			}
			d.failLocked(p, fmt.Errorf("%w: replay mismatch: no worker can go on for %v while %d created tasks wait that no worker's schedule names next:%s the program differs from the recorded one (or outside callers submit in another order)", ErrSchedule, replayStall, len(d.reg), next))
		}
		d.mu.Unlock()
	}
}

// noteRun logs that w runs t (recording), and counts progress. Owner only.
func (w *Worker) noteRun(t *Task, from int) {
	if d := w.p.det; d.record {
		d.logs[w.id] = append(d.logs[w.id], Run{ID: t.id, From: from})
	}
}

// runDet runs t's body with w's id context switched to t (so t's children are named after it),
// logging the run. Owner only.
func (w *Worker) runDet(t *Task, from int, traced bool) {
	w.noteRun(t, from)
	cur, kids := w.cur, w.kids
	w.cur, w.kids = t.id, 0
	if rec := w.p.tr.Load(); traced && rec != nil { // load (seq-cst): trace point, see trace.go
		w.executeTraced(t, rec)
	} else {
		t.Job.Run(w)
	}
	w.cur, w.kids = cur, kids
}

// taskDone wakes replaying waiters after a task's latch was set. Any worker.
func (p *Pool) taskDone() {
	if d := p.det; d != nil && d.replay != nil && !d.failed.Load() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

// stopDet wakes replaying workers at shutdown and stops the watchdog. shutdown only.
func (p *Pool) stopDet() {
	d := p.det
	if d == nil {
		return
	}
	close(d.quit)
	if d.replay != nil {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

// RecordedSchedule returns what the pool recorded. Call after Close (the logs are then final).
func (p *Pool) RecordedSchedule() *Schedule {
	if p.det == nil || !p.det.record {
		return nil
	}
	s := &Schedule{Workers: len(p.workers), Runs: make([][]Run, len(p.workers))}
	for i := range s.Runs {
		s.Runs[i] = append([]Run{}, p.det.logs[i]...)
	}
	return s
}

// ReplayError returns the replay's mismatch error, or nil. Any goroutine.
func (p *Pool) ReplayError() error {
	if p.det == nil || !p.det.failed.Load() {
		return nil
	}
	p.det.mu.Lock()
	defer p.det.mu.Unlock()
	return p.det.err
}

// TakeReplayError returns the mismatch error the first time it is called after one, else nil.
// Outside callers (goveda's runRoot) use it so that one call reports the mismatch.
func (p *Pool) TakeReplayError() error {
	if p.det == nil || !p.det.failed.Load() || !p.det.reported.CompareAndSwap(false, true) {
		return nil
	}
	return p.ReplayError()
}

// ---- the file format ---------------------------------------------------------------------------

// scheduleFile is the JSON form: ids in hex (JSON numbers lose precision above 2^53).
type scheduleFile struct {
	Format   string      `json:"format"`
	Version  int         `json:"version"`
	Workers  int         `json:"workers"`
	Policy   string      `json:"policy"`
	RunsJSON [][]fileRun `json:"runs"`
	Checksum string      `json:"checksum"`
}

type fileRun struct {
	ID   string `json:"id"`
	From int    `json:"from"`
}

const scheduleFormat = "veda-schedule"

func (s *Schedule) checksum() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d;", s.Workers)
	for i, runs := range s.Runs {
		fmt.Fprintf(h, "w%d:", i)
		for _, r := range runs {
			fmt.Fprintf(h, "%016x/%d,", r.ID, r.From)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// MarshalSchedule encodes s as a schedule file.
func MarshalSchedule(s *Schedule, policy string) ([]byte, error) {
	f := scheduleFile{Format: scheduleFormat, Version: 1, Workers: s.Workers, Policy: policy, Checksum: s.checksum()}
	f.RunsJSON = make([][]fileRun, len(s.Runs))
	for i, runs := range s.Runs {
		f.RunsJSON[i] = make([]fileRun, len(runs))
		for k, r := range runs {
			f.RunsJSON[i][k] = fileRun{ID: fmt.Sprintf("%016x", r.ID), From: r.From}
		}
	}
	return json.Marshal(f)
}

// UnmarshalSchedule decodes a schedule file; a corrupt or foreign file is an error wrapping
// ErrSchedule that says what is wrong.
func UnmarshalSchedule(data []byte) (*Schedule, error) {
	var f scheduleFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: not a schedule file (%v)", ErrSchedule, err)
	}
	if f.Format != scheduleFormat {
		return nil, fmt.Errorf("%w: not a schedule file (format %q, want %q)", ErrSchedule, f.Format, scheduleFormat)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: schedule file version %d is not supported (want 1)", ErrSchedule, f.Version)
	}
	if f.Workers < 1 || len(f.RunsJSON) != f.Workers {
		return nil, fmt.Errorf("%w: corrupt schedule: %d workers but %d run lists", ErrSchedule, f.Workers, len(f.RunsJSON))
	}
	s := &Schedule{Workers: f.Workers, Runs: make([][]Run, f.Workers)}
	for i, runs := range f.RunsJSON {
		s.Runs[i] = make([]Run, len(runs))
		for k, r := range runs {
			var id uint64
			if _, err := fmt.Sscanf(r.ID, "%016x", &id); err != nil || len(r.ID) != 16 {
				return nil, fmt.Errorf("%w: corrupt schedule: worker %d run %d has id %q", ErrSchedule, i, k, r.ID)
			}
			if r.From < FromInjector || r.From >= f.Workers {
				return nil, fmt.Errorf("%w: corrupt schedule: worker %d run %d comes from %d", ErrSchedule, i, k, r.From)
			}
			s.Runs[i][k] = Run{ID: id, From: r.From}
		}
	}
	if sum := s.checksum(); sum != f.Checksum {
		return nil, fmt.Errorf("%w: corrupt schedule: checksum %s does not match its runs (%s)", ErrSchedule, f.Checksum, sum)
	}
	return s, nil
}

// Scheduled reports whether p records or replays its schedule (Options.Record/Replay). Callers
// that run work on an outside goroutine then keep every task on the workers, as recorded, and
// take no execution slot (replaying workers hold theirs while they wait for their next task).
// Any goroutine; fixed at New.
func (p *Pool) Scheduled() bool { return p.det != nil }
