package sched

import (
	"sync"
	"sync/atomic"
)

// sleepState is the pool's parking lot. The protocol (steps, and why no wake-up is lost) is in
// PARKING.md; in short: a sleeper registers (idle++) and then re-checks every queue; a pusher
// publishes its task and then reads idle. Both sides use sequentially consistent atomics, so at
// least one of them sees the other.
type sleepState struct {
	// idle and searching are words of the pool's Gate (inline.go), so that foreign code that
	// pushes a join record can read them in place (ext.go); set by New.
	idle      *atomic.Int32 // registered sleepers; seq-cst add in register (from fallAsleep), load in notify
	searching *atomic.Int32 // workers spinning in the idle loop; seq-cst, see notify
	// waiting counts workers spinning inside a wait (a join, a scope) that found no work to help
	// with: idle for IdleWorkers, so a running reduce leaf offers them half of its rest (goveda's
	// leaf.go). A hint only: notify ignores it, and no wake-up depends on it. Adds by the
	// waiting worker (waitSlow), loads by IdleWorkers; no ordering role.
	waiting atomic.Int32
	_       [cacheLine - 20]byte

	mu       sync.Mutex
	sleepers []*Worker // registered sleepers, LIFO (the most recently idle has the warmest cache)
}

// notify wakes one sleeping worker that may take work (id below the adaptive limit) if
// one sleeps and nobody is already searching for work. Called by any goroutine right after it
// published a task (deque push or injector push). Cost when nobody sleeps: two atomic loads.
func (p *Pool) notify() {
	s := &p.sleep
	// load (seq-cst): pairs with idle.Add in register; ordered after the caller's publishing
	// store (deque bottom or injector count).
	if s.idle.Load() == 0 {
		if m := p.mon; m != nil {
			// No sleeper: every active worker runs, searches or is on its way to search (woken by
			// a growth: Pool.waking), and surplus ones are suspended.
			// loads: a full pool cannot grow (the common case: one load); a searcher (seq-cst)
			// will take the task.
			if !p.grow || p.active.Load() == int32(len(p.workers)) || s.searching.Load() > 0 || !p.growOnPush() {
				m.kick()
			}
		}
		return
	}
	// load (seq-cst): a searching worker will find the task or, on giving up, see it in its
	// recheck; when it finds work it hands the wake on (Worker.idle), so none is lost.
	if s.searching.Load() > 0 {
		return
	}
	if !s.wakeOne(p.active.Load()) { // load: the adaptive limit now
		if m := p.mon; m != nil && !(p.grow && p.growOnPush()) {
			// No sleeper may take the task now: the active workers are running (perhaps
			// inside long tasks), so a worker the monitor let go must come back; a quiet
			// monitor is woken to decide (adaptive.go, growth on queued work).
			m.kick()
		}
	}
}

// growOnPush raises the active count by one (up to the limit) and wakes the newly active worker,
// for a task that was just published while no active worker is free to take it (Pool.notify,
// with Options.GrowOnPush). The monitor would grow for the same reason ("queued tasks") at its
// next tick, which after a quiet spell comes a millisecond after the first task: measured on the
// peer benchmark, the first loop after the one-chunk latency test ran 1.3-1.4 ms on one of two
// workers. It reports whether it grew. Any goroutine.
func (p *Pool) growOnPush() bool {
	// load: a worker woken by a growth is on its way to the queues. Growing again for each push
	// of a burst would wake a worker per push (found by review: 3 back-to-back pushes grew 1->4).
	if p.waking.Load() > 0 {
		return false
	}
	a := int(p.active.Load()) // load: the adaptive limit now
	if a >= p.limit() {
		return false
	}
	return p.resize(a, a+1, func() string { return "a task queued while every active worker was busy" })
}

// wakeOne unregisters the most recently registered sleeper whose id is below limit (a worker the
// adaptive policy lets run) and wakes it. A sleeper at or above the limit would only suspend
// again and swallow the wake-up, leaving the task to the monitor's next tick; if every sleeper
// is above the limit, the active workers are awake and will find the work themselves (they
// re-check every queue before they park). It reports whether it woke one. Any goroutine.
// O(sleepers) under mu.
func (s *sleepState) wakeOne(limit int32) bool {
	s.mu.Lock()
	i := len(s.sleepers) - 1
	for i >= 0 && int32(s.sleepers[i].id) >= limit {
		i--
	}
	if i < 0 {
		s.mu.Unlock()
		return false
	}
	w := s.sleepers[i]
	n := len(s.sleepers)
	copy(s.sleepers[i:], s.sleepers[i+1:])
	s.sleepers[n-1] = nil
	s.sleepers = s.sleepers[:n-1]
	w.registered = false
	s.idle.Add(-1) // atomic add under mu: keeps idle == len(sleepers)
	s.mu.Unlock()
	w.wake()
	return true
}

// register adds w to the sleepers. Owner worker (w) only.
func (s *sleepState) register(w *Worker) {
	s.mu.Lock()
	s.sleepers = append(s.sleepers, w)
	w.registered = true
	// add (seq-cst): the sleeper's half of the Dekker pair; ordered before the queue recheck.
	s.idle.Add(1)
	s.mu.Unlock()
}

// unregister removes w from the sleepers if a waker did not already. Owner worker (w) only.
func (s *sleepState) unregister(w *Worker) {
	s.mu.Lock()
	if w.registered {
		for i, x := range s.sleepers {
			if x == w {
				copy(s.sleepers[i:], s.sleepers[i+1:])
				s.sleepers[len(s.sleepers)-1] = nil
				s.sleepers = s.sleepers[:len(s.sleepers)-1]
				break
			}
		}
		w.registered = false
		s.idle.Add(-1) // atomic add under mu
	}
	s.mu.Unlock()
}

// wake makes w's next (or current) park return. Any goroutine. At most one token is buffered,
// so a wake of a running worker costs it at most one extra pass through its idle loop.
func (w *Worker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

// fallAsleep parks w until a waker, the latch l (may be nil), or Close wakes it. It first
// registers as a sleeper and then re-checks for work, for l and for stopping; if anything is
// there it returns at once. Owner worker (w) only. Returns without guarantee that work exists:
// callers loop.
func (w *Worker) fallAsleep(l waitCond) {
	p := w.p
	if l != nil {
		l.arm(w) // the waiter's half of the Dekker pair (see Latch.Set, extJob.Run)
	}
	p.sleep.register(w)
	if (l != nil && l.Probe()) || p.stopping.Load() || p.hasWork() {
		p.sleep.unregister(w)
	} else {
		w.st.parks++
		w.releaseSlot() // a parked worker holds no execution slot (inline.go)
		var start int64
		traced := p.tr.Load() != nil // load (seq-cst): trace point, see trace.go
		if traced {
			start = p.now()
		}
		// Parked inside a wait (a join, a scope), the worker is idle for the adaptive
		// monitor until it wakes (in its idle loop the clock is idle already).
		waiting := w.busyPhase
		w.clockIdle()
		<-w.wakeCh
		w.ys.rescheduled()
		if waiting {
			w.clockBusy()
		}
		if traced {
			w.tracePark(start)
		}
		p.sleep.unregister(w)
		w.acquireSlot()
	}
	if l != nil {
		l.disarm(w)
	}
}

// spinPause backs off inside a spin loop: a busy pause that grows over the first 16 rounds and
// then stays at about a microsecond. It never yields the P: with a spare P (cgo_bodies.go in
// goveda) a runtime.Gosched wakes an idle thread each time, and the spin phase is bounded
// anyway (Options.Spin, SpinFor).
func spinPause(i int) {
	n := 256
	if i < 16 {
		n = 64 << uint(i&3)
	}
	for j := 0; j < n; j++ { // the Go compiler keeps empty loops
	}
}

// spinBudget is one spin phase of an idle or waiting worker: p.spin rounds, then with p.spinFor
// until that much more time passed (Options.SpinFor: "after Spin rounds"; the clock is read
// every 8 rounds). Owner only.
//
// The clock starts at the first round past p.spin, not when the phase starts: a waiting worker
// starts a phase after every task it helps with, and most phases end within their first rounds
// (work found). Reading the clock up front was 4.5% of a fib through veda_group (perf: a
// clock_gettime per helped task; about 150 ns on this VM).
type spinBudget struct {
	p       *Pool
	start   int64
	started bool
}

// spinner starts a spin phase. Owner only.
func (w *Worker) spinner() spinBudget { return spinBudget{p: w.p} }

// more reports whether round i of the phase may spin.
func (b *spinBudget) more(i int) bool {
	switch {
	case i < b.p.spin:
		return true
	case b.p.spinFor == 0:
		return false
	case !b.started:
		b.start, b.started = b.p.now(), true
		return true
	case i&7 != 0:
		return true // between clock reads: at most 7 rounds past the deadline
	}
	return b.p.now()-b.start < b.p.spinFor
}
