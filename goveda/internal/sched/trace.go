package sched

import (
	"fmt"

	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// Trace points. While no trace runs, Pool.tr holds nil and each point costs one load and one
// predictable branch. While one runs, a worker appends to its own trace.Buffer (no lock); see
// goveda/internal/trace for the buffer protocol and the file format.
//
// What is recorded here: task runs taken from a queue (execute), steals (a flow from the victim's
// track to the thief's), helping waits (WaitUntil/JoinTask of a stolen half: one slice, marked
// helping when the worker ran tasks meanwhile), parking, adaptive resizes and the active-worker
// counter. A join half that runs inline (JoinTask's fast path) is part of its parent's slice, as
// a plain call would be. Loop chunks and pipeline stages are recorded by goveda, which knows
// their ranges (Worker.TraceBuffer).

// TraceNamer is implemented by jobs that name their slice in a trace ("join", "for", ...);
// other jobs appear as "task".
type TraceNamer interface {
	TraceName() string
}

// SetTracer installs rec as the running trace, or removes it (nil). Any goroutine; goveda's
// StartTrace and StopTrace only. The store (seq-cst) publishes a fully built recorder.
func (p *Pool) SetTracer(rec *trace.Recorder) {
	p.tr.Store(rec)
	if rec != nil {
		rec.Add(trace.Event{Start: p.now(), Track: trace.TrackOutside(), Ph: trace.PhCounter,
			Cat: trace.CatCounter, Name: "active workers", A: int64(p.active.Load())})
	}
}

// Tracer returns the running trace, or nil. Any goroutine.
func (p *Pool) Tracer() *trace.Recorder { return p.tr.Load() } // load (seq-cst): see SetTracer

// TraceBuffer returns w's buffer in the running trace, or nil when none runs. Owner only: only
// w may Add to the buffer.
func (w *Worker) TraceBuffer() *trace.Buffer {
	if rec := w.p.tr.Load(); rec != nil { // load (seq-cst): see SetTracer
		return rec.Worker(w.id)
	}
	return nil
}

// Now returns the pool clock (ns), the time base of trace events. Any goroutine.
func (w *Worker) Now() int64 { return w.p.now() }

// ID returns w's index in the pool (0 ... Workers-1). Any goroutine.
func (w *Worker) ID() int { return w.id }

// executeTraced is execute with a slice around the run. Worker only.
func (w *Worker) executeTraced(t *Task, rec *trace.Recorder) {
	start := w.p.now()
	t.Job.Run(w)
	name := "task"
	if n, ok := t.Job.(TraceNamer); ok {
		name = n.TraceName()
	}
	rec.Worker(w.id).Add(trace.Event{Start: start, Dur: w.p.now() - start, Track: trace.TrackWorker(w.id),
		Ph: trace.PhComplete, Cat: trace.CatTask, Name: name})
}

// traceSteal records a steal arrow from victim v to w. Owner (w) only.
func (w *Worker) traceSteal(v *Worker) {
	rec := w.p.tr.Load() // load (seq-cst): see SetTracer
	if rec == nil {
		return
	}
	now := w.p.now()
	id := rec.FlowID()
	b := rec.Worker(w.id)
	b.Add(trace.Event{Start: now, Track: trace.TrackWorker(v.id), Ph: trace.PhFlowStart, Cat: trace.CatSteal, Name: "steal", A: id})
	b.Add(trace.Event{Start: now, Track: trace.TrackWorker(w.id), Ph: trace.PhFlowEnd, Cat: trace.CatSteal, Name: "steal", A: id})
}

// traceWait records a wait slice [start, now) on w. Owner only.
func (w *Worker) traceWait(rec *trace.Recorder, start int64, helped bool) {
	var h int64
	if helped {
		h = 1
	}
	rec.Worker(w.id).Add(trace.Event{Start: start, Dur: w.p.now() - start, Track: trace.TrackWorker(w.id),
		Ph: trace.PhComplete, Cat: trace.CatWait, Name: "wait", A: h})
}

// tracePark records a park slice [start, now) on w. Owner only.
func (w *Worker) tracePark(start int64) {
	if rec := w.p.tr.Load(); rec != nil { // load (seq-cst): see SetTracer
		rec.Worker(w.id).Add(trace.Event{Start: start, Dur: w.p.now() - start, Track: trace.TrackWorker(w.id),
			Ph: trace.PhComplete, Cat: trace.CatPark, Name: "park"})
	}
}

// traceResize records an adaptive resize to active workers, with its reason. Monitor only.
func (p *Pool) traceResize(active int, reason string) {
	rec := p.tr.Load() // load (seq-cst): see SetTracer
	if rec == nil {
		return
	}
	now := p.now()
	rec.Add(trace.Event{Start: now, Track: trace.TrackOutside(), Ph: trace.PhInstant, Cat: trace.CatResize,
		Name: "resize", A: int64(active), Args: fmt.Sprintf(`"reason":%q`, reason)})
	rec.Add(trace.Event{Start: now, Track: trace.TrackOutside(), Ph: trace.PhCounter, Cat: trace.CatCounter,
		Name: "active workers", A: int64(active)})
}

// queueSampleNs is the least time between two queue-depth samples of one worker: a counter
// track needs no more, and a sample per injected task would double the events of a run of
// small submitted tasks.
const queueSampleNs = 50_000

// traceQueue samples the injector's depth as a counter, at most every queueSampleNs per worker.
// Worker only (after an injector pop).
func (w *Worker) traceQueue() {
	if rec := w.p.tr.Load(); rec != nil { // load (seq-cst): see SetTracer
		now := w.p.now()
		if now-w.lastQueueSample < queueSampleNs {
			return
		}
		w.lastQueueSample = now
		rec.Worker(w.id).Add(trace.Event{Start: now, Track: trace.TrackWorker(w.id), Ph: trace.PhCounter,
			Cat: trace.CatCounter, Name: "queue depth", A: w.p.inj.len()})
	}
}
