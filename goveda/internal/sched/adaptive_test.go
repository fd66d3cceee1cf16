package sched

import (
	"testing"
	"time"
)

// The adaptive monitor and long tasks: a worker inside one long task (a C callback that blocks
// or spins) is busy, and work it queues while every other worker was let go must wake one.

// waitActive waits until p's monitor set the active count to n (a state poll, not a timing
// assertion).
func waitActive(t *testing.T, p *Pool, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Active() != n {
		if time.Now().After(deadline) {
			t.Fatalf("active %d, want %d", p.Active(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAdaptiveWakesForWorkQueuedInLongTask: on a 2-worker adaptive pool shrunk to one active
// worker, a root task stays inside its body (as a task blocked in a C call) until the monitor
// went quiet or 300 ms passed, then pushes a task and waits for it without helping. Only the
// second worker can run it. Before the busy phase in progress counted and pushes kicked the
// monitor, the monitor went quiet while the root ran (the parked second worker looked like
// "all parked") and the pushed task waited for the root forever.
func TestAdaptiveWakesForWorkQueuedInLongTask(t *testing.T) {
	p, err := New(Options{Workers: 2, Spin: 1, Adaptive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for r := 0; r < 3; r++ {
		waitActive(t, p, 1)
		ok := p.RunRoot(2, func(w *Worker) {
			// Long enough for the monitor to go quiet (5 ticks) if it would; not asserted.
			for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end) && !p.mon.sleeping.Load(); {
				time.Sleep(time.Millisecond)
			}
			ran := make(chan struct{})
			j := &signalJob{done: ran}
			j.t.Job = j
			w.Push(&j.t)
			select {
			case <-ran:
			case <-time.After(10 * time.Second):
				t.Errorf("round %d: a task pushed from inside a long task never ran on the other worker (active %d, monitor quiet %v)",
					r, p.Active(), p.mon.sleeping.Load())
				p.resize(p.Active(), 2, func() string { return "test" }) // let Close finish
				<-ran
			}
		})
		if !ok {
			t.Fatal("closed")
		}
		if t.Failed() {
			return
		}
	}
}

// TestAdaptiveLongTaskCountsBusy: a task that stays in its body for many monitor ticks counts as
// busy while it runs (busyNow), and a parked worker inside a wait counts as idle.
func TestAdaptiveLongTaskCountsBusy(t *testing.T) {
	p, err := New(Options{Workers: 2, Spin: 1, Clocks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inside := make(chan *Worker)
	release := make(chan struct{})
	go p.RunRoot(2, func(w *Worker) {
		inside <- w
		<-release
	})
	w := <-inside
	b1, on := w.busyNow(p.now())
	time.Sleep(20 * time.Millisecond)
	b2, on2 := w.busyNow(p.now())
	close(release)
	if !on || !on2 || b2-b1 < int64(10*time.Millisecond) {
		t.Fatalf("a worker inside a task: busy %v then %v, busy time grew by %v, want >= the 20 ms it spent inside", on, on2, time.Duration(b2-b1))
	}
}

// TestAdaptiveCapWhileBusy: a cap set while both workers run long tasks (the monitor has backed
// off to its long period by then) still lowers the active count while they run, and lifting it
// lets the monitor grow again.
func TestAdaptiveCapWhileBusy(t *testing.T) {
	p, err := New(Options{Workers: 2, Spin: 1, Adaptive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	spin := func() {
		started <- struct{}{}
		for {
			select {
			case <-release:
				return
			default:
				spinPause(1)
			}
		}
	}
	done := make(chan bool, 2)
	go func() { done <- p.RunRoot(2, func(w *Worker) { spin() }) }()
	go func() { done <- p.RunRoot(2, func(w *Worker) { spin() }) }()
	<-started
	<-started
	waitActive(t, p, 2)
	time.Sleep(300 * time.Millisecond) // long enough to back off (not asserted)
	p.SetCap(1, "test")
	waitActive(t, p, 1) // while both tasks still run
	p.SetCap(0, "test")
	close(release)
	if !<-done || !<-done {
		t.Fatal("closed")
	}
}
