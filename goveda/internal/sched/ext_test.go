package sched

import (
	"sync/atomic"
	"testing"
	"time"
)

// pushExt and popExt do on the worker's ExtDeque what capi.c's veda_join does around fa (the
// foreign owner's push and pop), for tests of the Go side. Owner only.
func pushExt(d *ExtDeque, r *ExtRecord) int64 {
	b := d.Bottom.Load()
	d.Slots[b&(ExtCap-1)].Store(r)
	d.Bottom.Store(b + 1)
	return b
}

// popExt reports whether the owner got its record back (false: a worker took it).
func popExt(d *ExtDeque, b int64) bool {
	if d.Bottom.Load() != b+1 {
		return false
	}
	d.Bottom.Store(b)
	t := d.Top.Load()
	if t < b {
		return true
	}
	mine := t == b && d.Top.CompareAndSwap(b, b+1)
	d.Bottom.Store(b + 1)
	return mine
}

// A worker that waits in Go (as a veda_future_wait inside fa does) while its own join record is
// still on its ExtDeque runs the record itself: with one worker nobody else can, and the wait
// here ends only when the record has run. The timer is a fallback that makes a failure a test
// failure rather than a hang; it sets timedOut.
func TestOwnExtRecordRunsDuringWait(t *testing.T) {
	var l Latch
	var ran, timedOut atomic.Bool
	SetExtRunner(func(rec *ExtRecord, dq *ExtDeque) {
		ran.Store(true)
		rec.Status = 7
		l.Set() // fb unblocks what fa waits for
	})
	p, err := New(Options{Workers: 1, Ext: true, Spin: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stop := time.AfterFunc(5*time.Second, func() { timedOut.Store(true); l.Set() })
	defer stop.Stop()
	var rec ExtRecord
	var mine bool
	var parks uint64
	p.RunRoot(0, func(w *Worker) {
		b := pushExt(w.ext, &rec)
		p0 := w.st.parks
		w.WaitUntil(&l, nil)
		parks = w.st.parks - p0
		mine = popExt(w.ext, b)
	})
	if timedOut.Load() || !ran.Load() {
		t.Fatalf("the waiting owner did not run its own record (ran %v, parks %d)", ran.Load(), parks)
	}
	if mine || rec.State.Load() != extDone || rec.Status != 7 {
		t.Fatalf("after the wait: popped back %v, state %d, status %d; want taken, done (-1), 7",
			mine, rec.State.Load(), rec.Status)
	}
}

// A record a thief takes: the owner's pop finds it taken, waits with WaitExt (parking) until the
// thief's Swap, and sees the status; the thief's stolen count grows; the deque ends empty.
func TestStolenExtRecordWakesParkedOwner(t *testing.T) {
	release := make(chan struct{})
	var runs atomic.Int32
	SetExtRunner(func(rec *ExtRecord, dq *ExtDeque) {
		runs.Add(1)
		<-release // the owner parks meanwhile
		rec.Status = 3
	})
	p, err := New(Options{Workers: 2, Ext: true, Spin: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for round := 0; round < 20; round++ {
		var rec ExtRecord
		var mine bool
		var owner *Worker
		p.RunRoot(0, func(w *Worker) {
			owner = w
			b := pushExt(w.ext, &rec)
			p.notify()                        // as capi.c does when a worker sleeps
			for runs.Load() == int32(round) { // fa: until the other worker took the record
				spinPause(16)
			}
			mine = popExt(w.ext, b)
			go func() { time.Sleep(2 * time.Millisecond); release <- struct{}{} }()
			if !mine {
				WaitExt(w.ext, &rec)
			}
		})
		if mine || rec.State.Load() != extDone || rec.Status != 3 {
			t.Fatalf("round %d: popped back %v, state %d, status %d", round, mine, rec.State.Load(), rec.Status)
		}
		if n := owner.ext.size(); n != 0 {
			t.Fatalf("round %d: %d records left on the deque", round, n)
		}
	}
	if s := p.Stats(); s.Stolen < 20 {
		t.Fatalf("Stats.Stolen = %d, want >= 20", s.Stolen)
	}
}
