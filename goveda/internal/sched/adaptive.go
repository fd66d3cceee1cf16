package sched

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Adaptive worker count (PolicyAdaptive, PolicyEnergyEfficient).
//
// A monitor goroutine samples every monitorTick (see Back-off): the busy time of the active workers and the
// injector length. Utilization = busy delta / (active * period). Busy time includes the busy phase
// in progress (Worker.busyNow), so a worker that sits in one long task (a C callback that blocks
// or spins) counts as busy while it runs, not only once it returns; a worker parked inside a
// wait (a join, a scope) counts as idle.
//   - Shrink: utilization below lowUtil for shrinkTicks ticks in a row -> active--.
//     Surplus workers (id >= active) suspend at their next idle moment (Worker.suspend); a worker
//     in the middle of a task finishes it first, so no work is stranded.
//   - Grow: queued injected work at a tick, or utilization above highUtil -> active++ and the
//     newly active worker is woken. With Options.GrowOnPush (PolicyAdaptive) a push or inject
//     that no active worker is free to take grows at once instead (Pool.growOnPush); the
//     energy-efficient policy waits for the tick, so short bursts wake nobody.
//   - Quiescence: when no worker is in a busy phase and nothing is queued, the monitor stops
//     ticking and waits for kick, so an idle pool costs no CPU. Kicks: an inject, and a push or
//     inject that finds no sleeper allowed to take it (Pool.notify): the active workers are all
//     running, perhaps inside long tasks, and the monitor must decide whether to grow. The
//     first tick after a kick comes after monitorTick/10, so work submitted to an idle pool
//     gets more workers quickly.
//   - Back-off: while every allowed worker is active and busy there is nothing to decide, and
//     each tick is a thread switch on a core that runs a worker (measured: without the back-off,
//     a C loop benchmark made a third more context switches). The period then doubles up to
//     monitorBusyTick (80 ms) and drops back to monitorTick at the first tick that sees less;
//     SetCap nudges the monitor to tick at once. Utilization is measured over the real period.
//
// active never drops below 1, so progress never depends on the monitor: suspended workers hold
// no queued work (they suspend only with an empty deque), and the active workers are woken by
// pushes as usual.
const (
	monitorTick = 10 * time.Millisecond
	// monitorBusyTick bounds the tick while every allowed worker is active and busy.
	monitorBusyTick = 80 * time.Millisecond
	lowUtil         = 0.30
	highUtil        = 0.85
	shrinkTicks     = 5
)

type monitor struct {
	p        *Pool
	kickCh   chan struct{} // capacity 1
	nudgeCh  chan struct{} // capacity 1: tick now (SetCap), whatever the period
	sleeping atomic.Bool   // the monitor waits for a kick; store by monitor, load by inject
	quit     chan struct{}
	once     sync.Once
	done     chan struct{}
}

func startMonitor(p *Pool) *monitor {
	m := &monitor{p: p, kickCh: make(chan struct{}, 1), nudgeCh: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go m.loop()
	return m
}

// kick restarts a quiescent monitor. Any goroutine; one atomic load when the monitor is awake.
func (m *monitor) kick() {
	if m.sleeping.Load() { // load (seq-cst): pairs with the store in loop before its final check
		select {
		case m.kickCh <- struct{}{}:
		default:
		}
	}
}

// nudge makes the monitor tick now (a new cap must not wait for a backed-off tick). Any
// goroutine; never blocks.
func (m *monitor) nudge() {
	select {
	case m.nudgeCh <- struct{}{}:
	default:
	}
}

// stop ends the monitor and waits for it. Any goroutine; idempotent.
func (m *monitor) stop() {
	m.once.Do(func() { close(m.quit) })
	<-m.done
}

func (m *monitor) loop() {
	defer close(m.done)
	p := m.p
	n := len(p.workers)
	lastBusy := make([]int64, n)
	low := 0
	quiet := 0
	period := monitorTick
	t := time.NewTimer(period)
	defer t.Stop()
	last := p.now()
	for {
		select {
		case <-m.quit:
			return
		case <-t.C:
		case <-m.nudgeCh:
			if !t.Stop() {
				select { // the timer fired meanwhile: drain it before the Reset below
				case <-t.C:
				default:
				}
			}
		}
		active := int(p.active.Load())
		now := p.now()
		elapsed := now - last
		last = now
		if elapsed <= 0 {
			elapsed = int64(monitorTick)
		}
		var busy int64
		running := 0
		for i, w := range p.workers {
			b, on := w.busyNow(now)
			if i < active {
				busy += b - lastBusy[i]
			}
			if on {
				running++
			}
			lastBusy[i] = b
		}
		util := float64(busy) / (float64(active) * float64(elapsed))
		queued := p.inj.len()
		for _, w := range p.workers[:active] {
			queued += w.dq.size()
			if w.ext != nil {
				queued += max(0, w.ext.size()) // foreign join records (ext.go)
			}
		}
		limit := p.limit()
		switch {
		case active > limit:
			// The external cap (energy budget) dropped below the active count: obey at once.
			low = 0
			p.resize(active, limit, p.capWhy)
		case (queued > 0 || util > highUtil) && active < limit:
			low = 0
			p.resize(active, active+1, func() string {
				if queued > 0 {
					return fmt.Sprintf("%d queued tasks", queued)
				}
				return fmt.Sprintf("utilization %.0f%% > %.0f%%", 100*util, 100*highUtil)
			})
		case util < lowUtil && active > 1 && queued == 0:
			low++
			if low >= shrinkTicks {
				low = 0
				// Surplus workers suspend at their next idle moment.
				p.resize(active, active-1, func() string {
					return fmt.Sprintf("utilization %.0f%% < %.0f%% for %d ticks", 100*util, 100*lowUtil, shrinkTicks)
				})
			}
		default:
			low = 0
		}
		// Quiescence: no worker in a busy phase and nothing queued for a few ticks -> wait
		// for a kick. (Counting parked workers instead would let a monitor sleep while the one
		// active worker runs a long task: a sleeper above the limit looks like "all parked".)
		if running == 0 && !p.hasWork() {
			quiet++
		} else {
			quiet = 0
		}
		woke := false
		if quiet >= shrinkTicks && int(p.active.Load()) == 1 {
			woke = true
			m.sleeping.Store(true) // store (seq-cst), then recheck: an inject either sees it or we see its work
			if !p.hasWork() {
				select {
				case <-m.quit:
					m.sleeping.Store(false)
					return
				case <-m.kickCh:
				}
			}
			m.sleeping.Store(false)
			quiet = 0
			now := p.now()
			for i := range lastBusy {
				lastBusy[i], _ = p.workers[i].busyNow(now)
			}
			last = now
		}
		// Back off while there is nothing to decide: every allowed worker active and busy. The
		// monitor's own wake-ups then cost the workers less (each one is a thread switch on a
		// core that runs a worker); a drop in utilization is seen at the next, longer tick.
		switch active := int(p.active.Load()); {
		case active > p.limit():
			// A cap is not obeyed yet (this tick's resize lost its CAS to a push): look again
			// soon instead of backing off.
			period = monitorTick / 10
		case woke:
			// Just kicked out of quiescence: look again soon, so that work submitted to an idle
			// pool gets its second worker within a millisecond rather than a whole tick.
			period = monitorTick / 10
		case active >= p.limit() && util > highUtil && quiet == 0:
			period = min(2*period, monitorBusyTick)
		default:
			period = monitorTick
		}
		t.Reset(period)
	}
}
