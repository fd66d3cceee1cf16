package sched

import (
	"sync/atomic"
)

// Latch states.
const (
	latchUnset uint32 = 0 // the awaited work has not finished
	latchSet   uint32 = 1 // the awaited work finished; its results are visible to whoever probes
)

// Latch is a one-shot completion flag that a worker can wait on while helping (Worker.WaitUntil).
// Set is called once by the goroutine that finishes the work; Probe by anyone. The zero value is
// an unset latch.
type Latch struct {
	state   atomic.Uint32          // latchUnset -> latchSet once
	sleeper atomic.Pointer[Worker] // a worker parked waiting for this latch, or nil
}

// Probe reports whether the latch is set. Any goroutine; never spuriously true.
func (l *Latch) Probe() bool {
	// load-acquire: pairs with the store-release in Set, so the finished work's writes
	// (results, errors) are visible after Probe returns true.
	return l.state.Load() == latchSet
}

// Reset makes a set latch unset again, for a recycled task. Only the goroutine that owns the
// latch, when nobody can wait on it or set it any more (the task ran, and no one joins it).
func (l *Latch) Reset() {
	l.sleeper.Store(nil)
	l.state.Store(latchUnset) // store (seq-cst); no concurrent reader by the rule above
}

// Set marks the latch set and wakes the worker parked on it, if any. Any goroutine; idempotent.
func (l *Latch) Set() {
	// store (sequentially consistent): publishes the work's results (release) and is ordered
	// before the sleeper load below; the waiter does sleeper.Store then state.Load (fallAsleep),
	// so at least one side sees the other (Dekker) and the wake-up cannot be lost.
	l.state.Store(latchSet)
	// load (seq-cst): pairs with sleeper.Store in Worker.fallAsleep.
	if w := l.sleeper.Load(); w != nil {
		w.wake()
	}
}

// waitCond is what a waiting worker waits for (waitSlow, fallAsleep): a *Latch, or a foreign
// join record (extCond, ext.go).
type waitCond interface {
	Probe() bool // set; never spuriously true
	// arm makes a later set wake w: the waiter's half of the Dekker pair, done before the
	// final Probe in fallAsleep. disarm undoes it once w is awake.
	arm(w *Worker)
	disarm(w *Worker)
}

// store (seq-cst): the waiter's half of the latch Dekker pair (see Set).
func (l *Latch) arm(w *Worker) { l.sleeper.Store(w) }

// store: we are awake; later sets need not wake us.
func (l *Latch) disarm(*Worker) { l.sleeper.Store(nil) }
