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

// groupRunner is what capi.c's runner does with a group record (vedac_grec_run): run it, then
// take one off the group word with a fetch-sub and wake the waiter it read when that was the
// last. Here every record belongs to the group word *word and "running" it counts it in runs[i]
// (Ctx is the index) after an optional sleep.
func groupRunner(word *atomic.Uint64, runs []atomic.Int32, sleep time.Duration) ExtRunner {
	return func(rec *ExtRecord, dq *ExtDeque) {
		if sleep > 0 {
			time.Sleep(sleep)
		}
		runs[rec.Ctx].Add(1)
		old := word.Add(^uint64(1<<ExtGroupShift-1)) + 1<<ExtGroupShift // fetch-sub: the old value
		if pendingOf(old) == 1 && old&extWaiterMask != 0 {
			WakeExtGroup(dq, old&extWaiterMask, word)
		}
	}
}

func groupRecords(n int) []ExtRecord {
	recs := make([]ExtRecord, n)
	for i := range recs {
		recs[i].Ctx = uintptr(i)
		recs[i].State.Store(extGroupRec)
	}
	return recs
}

// Group records: a worker pushes 100 (more than one side can run before the other parks) and
// waits on the group word; the other worker steals some, the waiter takes its own from the top
// while it waits (takeOwnExt) and parks armed on the word while the last ones run elsewhere.
// Every record runs once, the word ends at 0 (waiter disarmed), the deque empty.
func TestGroupRecordsWaitOnWord(t *testing.T) {
	for _, workers := range []int{1, 2} {
		var word atomic.Uint64
		runs := make([]atomic.Int32, 100)
		SetExtRunner(groupRunner(&word, runs, 200*time.Microsecond))
		p, err := New(Options{Workers: workers, Ext: true, Spin: 64})
		if err != nil {
			t.Fatal(err)
		}
		recs := groupRecords(len(runs))
		p.RunRoot(0, func(w *Worker) {
			word.Add(uint64(len(recs)) << ExtGroupShift)
			for i := range recs {
				pushExt(w.ext, &recs[i])
			}
			WaitExtGroup(w.ext, true, &word, false)
		})
		for i := range runs {
			if n := runs[i].Load(); n != 1 {
				t.Fatalf("%d workers: record %d ran %d times", workers, i, n)
			}
		}
		if word.Load() != 0 {
			t.Fatalf("%d workers: group word %#x after the wait, want 0", workers, word.Load())
		}
		for _, w := range p.workers {
			if w.ext.size() > 0 {
				t.Fatalf("%d workers: worker %d's deque still holds %d records", workers, w.id, w.ext.size())
			}
		}
		p.Close()
	}
}

// Records a task left on its deque (a spawn without a wait) are waited for from goroutines that
// are not workers: one arms the word (blocked on its channel until the last record's wake), a
// second at the same time polls. Both return once every record ran; then Close runs the records
// left by a second task, which nobody waits for (shutdown drains every deque).
func TestGroupRecordsWaitedOutsideAndDrainedByClose(t *testing.T) {
	var word atomic.Uint64
	runs := make([]atomic.Int32, 40)
	SetExtRunner(groupRunner(&word, runs, time.Millisecond))
	p, err := New(Options{Workers: 2, Ext: true, Spin: 64})
	if err != nil {
		t.Fatal(err)
	}
	recs := groupRecords(len(runs))
	var dq *ExtDeque
	p.RunRoot(0, func(w *Worker) {
		dq = w.ext
		word.Add(20 << ExtGroupShift)
		for i := 0; i < 20; i++ {
			pushExt(w.ext, &recs[i])
		}
	})
	done := make(chan struct{})
	go func() { WaitExtGroup(dq, false, &word, true); close(done) }()
	WaitExtGroup(dq, false, &word, false)
	<-done
	for i := 0; i < 20; i++ {
		if n := runs[i].Load(); n != 1 {
			t.Fatalf("record %d ran %d times", i, n)
		}
	}
	if word.Load() != 0 {
		t.Fatalf("group word %#x after the waits, want 0", word.Load())
	}
	if _, ok := extGroupWaiters.Load(&word); ok {
		t.Fatal("the outside waiter's channel is still registered")
	}
	p.RunRoot(0, func(w *Worker) {
		word.Add(20 << ExtGroupShift)
		for i := 20; i < 40; i++ {
			pushExt(w.ext, &recs[i])
		}
	})
	p.Close()
	for i := 20; i < 40; i++ {
		if n := runs[i].Load(); n != 1 {
			t.Fatalf("after Close: record %d ran %d times", i, n)
		}
	}
}
