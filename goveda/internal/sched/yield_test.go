package sched

import (
	"sync"
	"testing"
	"time"
)

// spinJob busy-waits for d (a C body that keeps its thread), then marks wg done.
type spinJob struct {
	t  Task
	d  time.Duration
	wg *sync.WaitGroup
}

func (j *spinJob) Run(*Worker) {
	for t0 := time.Now(); time.Since(t0) < j.d; {
	}
	j.wg.Done()
}

// runSpinJobs injects n jobs of d each into a one-worker pool with the given Yield option and
// returns how often its worker rescheduled.
func runSpinJobs(t *testing.T, yield bool, n int, d time.Duration) uint64 {
	t.Helper()
	p, err := New(Options{Workers: 1, Spin: 1, Yield: yield})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	jobs := make([]spinJob, n)
	for i := range jobs {
		wg.Add(1)
		jobs[i] = spinJob{d: d, wg: &wg}
		jobs[i].t.Job = &jobs[i]
		if !p.Enter() {
			t.Fatal("closed")
		}
		p.Inject(&jobs[i].t, 2, 0)
	}
	wg.Wait()
	for range jobs {
		p.Exit()
	}
	p.Close() // the worker has exited: its owner-only counter is safe to read
	return p.workers[0].ys.yields
}

// A worker of a Yield pool that keeps finding work passes through the Go scheduler about every
// yieldEvery (Go's sysmon would otherwise retake its P in the middle of a cgo body); without
// Yield it never does. 40 jobs of 0.5 ms are 20 ms of work, at least six yieldEvery periods.
func TestYieldReschedulesABusyWorker(t *testing.T) {
	if got := runSpinJobs(t, true, 40, 500*time.Microsecond); got < 2 {
		t.Fatalf("Yield pool: %d reschedules in 20 ms of back-to-back tasks, want >= 2", got)
	}
	if got := runSpinJobs(t, false, 40, 500*time.Microsecond); got != 0 {
		t.Fatalf("pool without Yield rescheduled %d times", got)
	}
}

// Short tasks are probed rarely: the probe period grows to maxProbeEvery, so a stream of tiny
// tasks reads the clock about once per maxProbeEvery tasks, not once per task.
func TestYieldProbesShortTasksRarely(t *testing.T) {
	var w Worker
	w.p = &Pool{yield: true, base: time.Now()}
	probes := 0
	for i := 0; i < 10000; i++ {
		before := w.ys.lastProbe
		w.afterTask()
		if w.ys.lastProbe != before {
			probes++
		}
	}
	if probes > 10000/maxProbeEvery+2*maxProbeEvery {
		t.Fatalf("%d clock probes for 10000 tiny tasks, want about %d", probes, 10000/maxProbeEvery)
	}
}

// unitsJob is one long task that runs n units of d each, calling Progress between them (as a
// pipeline task carrying item after item does).
type unitsJob struct {
	t    Task
	n    int
	d    time.Duration
	done chan struct{}
}

func (j *unitsJob) Run(w *Worker) {
	for i := 0; i < j.n; i++ {
		for t0 := time.Now(); time.Since(t0) < j.d; {
		}
		w.Progress()
	}
	close(j.done)
}

// Progress inside one long task reschedules a Yield pool's worker as task boundaries do; it does
// nothing without Yield.
func TestProgressReschedulesInsideALongTask(t *testing.T) {
	for _, yield := range []bool{true, false} {
		p, err := New(Options{Workers: 1, Spin: 1, Yield: yield})
		if err != nil {
			t.Fatal(err)
		}
		j := &unitsJob{n: 40, d: 500 * time.Microsecond, done: make(chan struct{})}
		j.t.Job = j
		if !p.Enter() {
			t.Fatal("closed")
		}
		p.Inject(&j.t, 2, 0)
		<-j.done
		p.Exit()
		p.Close()
		got := p.workers[0].ys.yields
		if yield && got < 2 {
			t.Fatalf("Yield pool: %d reschedules in one task of 20 ms with Progress, want >= 2", got)
		}
		if !yield && got != 0 {
			t.Fatalf("pool without Yield rescheduled %d times", got)
		}
	}
}

// An outside caller spins before blocking only after a short root job: RunRoot records whether
// the job it waited for finished within rootSpin, and the next call reads it.
func TestRootSpinFollowsThePreviousJob(t *testing.T) {
	p, err := New(Options{Workers: 1, Spin: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.RunRoot(2, func(*Worker) { time.Sleep(5 * rootSpin) }) {
		t.Fatal("closed")
	}
	if p.rootShort.Load() {
		t.Fatal("a root job of 5*rootSpin counted as short: its successor would spin")
	}
	for i := 0; i < 20 && !p.rootShort.Load(); i++ { // a descheduled caller can make one slow
		p.RunRoot(2, func(*Worker) {})
	}
	if !p.rootShort.Load() {
		t.Fatal("empty root jobs never counted as short: callers of one-chunk jobs would always block")
	}
}

// With SpinFor an idle worker keeps spinning (it is not a registered sleeper) for that long after
// its last task, then parks; without it, it parks after Spin rounds.
func TestSpinForKeepsAnIdleWorkerAwake(t *testing.T) {
	p, err := New(Options{Workers: 1, Spin: 1, SpinFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	waitParked(t, p, 1) // the start-up spin ends first
	t0 := time.Now()
	if !p.RunRoot(2, func(*Worker) {}) {
		t.Fatal("closed")
	}
	time.Sleep(20 * time.Millisecond)
	if p.sleep.idle.Load() != 0 && time.Since(t0) < 300*time.Millisecond {
		t.Fatal("the worker parked within 20 ms of its last task, with SpinFor 300 ms")
	}
	waitParked(t, p, 1) // and it does park afterwards
}
