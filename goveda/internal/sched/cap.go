package sched

import "fmt"

// An external cap on the active workers (goveda's energy governor: power budget, temperature).
//
// SetCap stores the cap and makes the adaptive monitor tick at once (even while it backs off):
// when active > cap it lowers active to cap at once (surplus workers suspend at their next idle
// moment, finishing the task they run), and its own growth never goes above cap. Without the
// adaptive monitor (fixed policies, one worker) the cap has no effect.

// SetCap caps the active workers at n (n <= 0 or >= Workers: no cap), for the given reason
// (reported through Options.OnResize when the monitor applies it). Any goroutine.
func (p *Pool) SetCap(n int, reason string) {
	if n <= 0 || n >= len(p.workers) {
		n = 0
	}
	p.capMu.Lock()
	p.capReason = reason
	p.capMu.Unlock()
	p.wcap.Store(int32(n)) // store: read by the monitor; the reason is under capMu
	if p.mon != nil {
		p.mon.kick()
		p.mon.nudge()
	}
}

// Cap returns the cap set by SetCap (0: none). Any goroutine.
func (p *Pool) Cap() int { return int(p.wcap.Load()) } // load: snapshot

// limit returns the most workers the monitor (or a growing push) may make active. Any goroutine.
func (p *Pool) limit() int {
	n := len(p.workers)
	if c := int(p.wcap.Load()); c > 0 && c < n { // load: see SetCap
		return c
	}
	return n
}

// resize sets active from from to to, unless it changed meanwhile or to is a growth above the
// limit (it then reports false and does nothing: the caller decides again), wakes the workers
// that became active, and reports the change. The monitor and a growing push (growOnPush) call
// it; resizeMu makes the change and its report one step, so reports arrive in the order of the
// changes and a growth cannot pass a cap stored before it. why is called only when a listener
// exists, so the common path formats nothing.
func (p *Pool) resize(from, to int, why func() string) bool {
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	if to > from && to > p.limit() {
		return false
	}
	// CAS (seq-cst): then wake; see Worker.suspend. Two resizers never both apply a decision
	// taken from the same old value.
	if !p.active.CompareAndSwap(int32(from), int32(to)) {
		return false
	}
	if to > from {
		for i := from; i < to; i++ {
			w := p.workers[i]
			// CAS (seq-cst), then add: w counts in waking until it searches (Pool.waking). A
			// worker that is still woken from an earlier growth counts once.
			if w.woken.CompareAndSwap(false, true) {
				p.waking.Add(1)
			}
			w.wake()
		}
	}
	if p.onResize != nil || p.tr.Load() != nil { // load (seq-cst): trace point, see trace.go
		reason := why()
		if p.onResize != nil {
			p.onResize(from, to, reason)
		}
		p.traceResize(to, reason)
	}
	return true
}

// capWhy is the reason of a resize forced by the cap. Monitor only.
func (p *Pool) capWhy() string {
	p.capMu.Lock()
	defer p.capMu.Unlock()
	return fmt.Sprintf("energy cap %d: %s", p.limit(), p.capReason)
}

// BusyNs returns the sum of the workers' busy time, the phases in progress included (0 without
// clocks). Any goroutine; O(workers) atomic loads.
func (p *Pool) BusyNs() int64 {
	var ns int64
	now := p.now()
	for _, w := range p.workers {
		b, _ := w.busyNow(now)
		ns += b
	}
	return ns
}

// Clocks reports whether the workers keep busy/idle clocks. Any goroutine.
func (p *Pool) Clocks() bool { return p.clocks }
