package sched

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A Shared that its owner runs is joined by idle workers (woken by Invite if they parked): every
// index of the shared counter runs exactly once, more than one worker runs some, and Unshare
// returns only after every helper has left.
func TestSharedIsJoinedAndUnshareWaitsForHelpers(t *testing.T) {
	p, err := New(Options{Workers: 4, Spin: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 400
	var next, inside atomic.Int64
	ran := make([]atomic.Int32, n)
	var mu sync.Mutex
	by := map[int]bool{} // worker ids that ran an index
	var afterUnshare int64 = -1
	var leftShared *Shared
	ok := p.RunRoot(2, func(w *Worker) {
		s := &Shared{}
		help := func(hw *Worker) {
			inside.Add(1)
			defer inside.Add(-1)
			for {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				ran[i].Add(1)
				mu.Lock()
				by[hw.ID()] = true
				mu.Unlock()
				time.Sleep(100 * time.Microsecond)
				if n-i > 2 {
					hw.Invite()
				}
			}
		}
		w.Share(s, help)
		help(w)
		w.Unshare(s)
		afterUnshare = inside.Load()
		leftShared = w.shared.Load()
	})
	if !ok {
		t.Fatal("RunRoot: pool closed")
	}
	for i := range ran {
		if c := ran[i].Load(); c != 1 {
			t.Fatalf("index %d ran %d times", i, c)
		}
	}
	if afterUnshare != 0 {
		t.Fatalf("Unshare returned with %d helpers still inside", afterUnshare)
	}
	if leftShared != nil {
		t.Fatal("Unshare left the Shared published")
	}
	if len(by) < 2 {
		t.Fatalf("only workers %v ran indices: nobody joined 40 ms of shared work", by)
	}
}

// A nested Share (a loop leaf inside a loop leaf on the same worker) publishes the inner one and
// Unshare restores the outer one.
func TestSharedNestsOnOneWorker(t *testing.T) {
	p, err := New(Options{Workers: 2, Spin: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var got [4]*Shared
	var outer, inner *Shared
	p.RunRoot(2, func(w *Worker) {
		outer, inner = &Shared{}, &Shared{}
		w.Share(outer, func(*Worker) {}) // joiners find nothing to claim
		got[0] = w.shared.Load()
		w.Share(inner, func(*Worker) {})
		got[1] = w.shared.Load()
		w.Unshare(inner)
		got[2] = w.shared.Load()
		w.Unshare(outer)
		got[3] = w.shared.Load()
	})
	if got[0] != outer || got[1] != inner || got[2] != outer || got[3] != nil {
		t.Fatalf("published: %v, want outer, inner, outer, nil", got)
	}
}

// enter fails once the owner closed or a runner drained; the last helper to leave a closed
// Shared sets done, and a Shared closed with nobody inside never needs it.
func TestSharedEnterAndLeave(t *testing.T) {
	var s Shared
	if !s.enter() || !s.enter() {
		t.Fatal("enter failed on an open Shared")
	}
	if old := s.state.Or(sharedClosed); old&^(sharedClosed|sharedDrained) == 0 {
		t.Fatal("close saw nobody inside with two helpers in")
	}
	if s.enter() {
		t.Fatal("enter succeeded after close")
	}
	s.leave()
	if s.done.Probe() {
		t.Fatal("done set with one helper still inside")
	}
	s.leave()
	if !s.done.Probe() {
		t.Fatal("done not set by the last helper to leave")
	}
	var empty Shared
	if old := empty.state.Or(sharedClosed); old&^(sharedClosed|sharedDrained) != 0 {
		t.Fatal("closing an unjoined Shared saw helpers")
	}

	var d Shared
	if !d.enter() {
		t.Fatal("enter failed on an open Shared")
	}
	d.Drain()
	if d.enter() {
		t.Fatal("enter succeeded after Drain")
	}
	d.leave() // drained but not closed: nobody waits yet
	if d.done.Probe() {
		t.Fatal("done set before the owner closed")
	}
	if old := d.state.Or(sharedClosed); old&^(sharedClosed|sharedDrained) != 0 {
		t.Fatal("close after the last helper left saw helpers")
	}
}
