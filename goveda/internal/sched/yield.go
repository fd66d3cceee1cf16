package sched

import (
	"time"
	_ "unsafe" // go:linkname
)

// Rescheduling points for pools whose task bodies are cgo calls (Options.Yield).
//
// Go's sysmon thread takes the P away from a goroutine whose scheduling tick has not changed for
// 10 ms (forcePreemptNS) when that goroutine is inside a cgo call, since it cannot be preempted
// there. A worker goroutine that keeps finding work never passes through the Go scheduler, so
// with C bodies it is retaken every 10 ms. Each retake also resets sysmon's back-off: it then
// wakes every 20 us for a millisecond and doubles from there, about 60 thread wake-ups that
// preempt the workers on their own cores. Measured on the 2-core machine: 12-14k context switches
// per 21 nqueens + triangular rounds against OpenMP's 170, and 3-4 ms of every 22 ms nqueens run
// spent descheduled inside the bodies.
//
// A worker with Yield therefore reschedules its goroutine once it has run yieldEvery without
// being rescheduled, between tasks (afterTask) and between the pieces of a loop leaf (YieldPoint),
// and sysmon sees a fresh tick every few milliseconds.
//
// It reschedules with runtime.goyield, not runtime.Gosched. Gosched puts the goroutine on the
// global run queue and wakes an idle P's thread (wakep); with the spare P that goveda keeps for
// cgo bodies there always is one, the woken thread preempts the yielding one on its core and takes
// the goroutine, and the old thread parks: three context switches and a migration per yield, a
// third of all switches in bench/peers/samecode (7.0-8.3k per run, now 2.6-2.8k). goyield puts the
// goroutine on its own P's local queue and calls the scheduler, which runs it again at once on the
// same thread, with a new scheduling tick and no wake-up. goyield is reached by go:linkname; the
// runtime keeps it for that use (go.dev/issue/67401: "Do not remove or change the type signature").
//
// The check reads the clock (about 30 ns here), so afterTask reads it only every probeEvery
// tasks: the period doubles while tasks are short (up to maxProbeEvery, under 1 ns per task for
// fib-sized tasks) and drops to 1 as soon as a probe finds that the tasks since the last probe
// took longer than probeSpan.
const (
	yieldEvery    = 3 * time.Millisecond
	probeSpan     = 500 * time.Microsecond
	maxProbeEvery = 64
)

// yieldState is one worker's rescheduling clock. Owner only.
type yieldState struct {
	last      int64 // pool clock of the last rescheduling point; 0: unknown (set at the next probe)
	lastProbe int64 // pool clock of the last probe
	every     int32 // probe period in tasks (1..maxProbeEvery); 0 before the first probe
	left      int32 // tasks until the next probe
	yields    uint64
}

// rescheduled records that the worker's goroutine has just been rescheduled (it parked and
// woke): the next probe restarts the clock. Owner only.
func (y *yieldState) rescheduled() {
	y.last = 0
	y.left = 0
}

// afterTask counts one finished task and probes the clock every y.every tasks. Owner only.
func (w *Worker) afterTask() {
	y := &w.ys
	if y.left--; y.left > 0 {
		return
	}
	now := w.p.now()
	switch span := now - y.lastProbe; {
	case y.every == 0 || span > int64(probeSpan):
		y.every = 1
	case y.every < maxProbeEvery:
		y.every *= 2
	}
	y.left, y.lastProbe = y.every, now
	w.yieldAt(now)
}

// Progress marks the end of one unit of work inside a long task that runs many of them (a
// pipeline task carrying item after item): with Options.Yield it counts as a finished task for
// the rescheduling clock (afterTask), so the worker still reschedules every yieldEvery. Owner
// only (a task running on w); one branch without Yield.
func (w *Worker) Progress() {
	if w.p.yield {
		w.afterTask()
	}
}

// YieldPoint is a rescheduling point inside a long task (between the pieces of a loop leaf):
// with Options.Yield it reschedules the goroutine when yieldEvery passed since the last one.
// Owner only (a task running on w); a no-op without Yield.
func (w *Worker) YieldPoint() {
	if w.p.yield {
		w.yieldAt(w.p.now())
	}
}

// yieldAt reschedules when yieldEvery passed since the last rescheduling point. Owner only.
func (w *Worker) yieldAt(now int64) {
	y := &w.ys
	if y.last == 0 {
		y.last = now
		return
	}
	if now-y.last < int64(yieldEvery) {
		return
	}
	goyield()
	y.yields++
	y.last = w.p.now()
}

// goyield is runtime.goyield: Gosched onto the current P's local run queue, without waking
// another thread (see the comment at the top). Called by a worker's own goroutine.
//
//go:linkname goyield runtime.goyield
func goyield()
