package sched

import (
	"github.com/HdrHistogram/hdrhistogram-go"
)

// Stats is a snapshot of a pool's counters (goveda's Metrics reports them). Workers publish
// their counters when they go idle and every 1024 tasks, so a busy pool's snapshot may lag.
type Stats struct {
	Executed, Stolen, StealAttempts, Parks uint64
	Panicked, Submitted                    uint64
	// LocalSteals and RemoteSteals split Stolen's successful steals (first task of each) by
	// whether the victim was on the thief's NUMA node; both 0 with one node.
	LocalSteals, RemoteSteals uint64
	QueuedInjected            int64
	BusyNs, IdleNs            []int64 // per worker
	// Latency of injected tasks (submit to finish), ns; zero without Options.Latency.
	LatencyCount                             int64
	LatencyP50Ns, LatencyP90Ns, LatencyP99Ns int64
	LatencyP999Ns                            int64
	// Wait of injected tasks (submit to start), ns.
	WaitCount                        int64
	WaitP50Ns, WaitP99Ns, WaitP999Ns int64
}

// Stats returns a snapshot of p's counters. Any goroutine; cost O(workers) plus merging the
// per-worker latency histograms (microseconds).
func (p *Pool) Stats() Stats {
	s := Stats{
		Executed:       p.inlined.Load() + p.gate.Inlined.Load(), // inline runs (inline.go); the workers' tasks are added below
		Panicked:       p.panicked.Load(),
		Submitted:      p.submitted.Load(),
		QueuedInjected: p.inj.len(),
		BusyNs:         make([]int64, len(p.workers)),
		IdleNs:         make([]int64, len(p.workers)),
	}
	var merged, waits *hdrhistogram.Histogram
	if p.latency {
		merged = hdrhistogram.New(1, 3_600_000_000_000, 2)
		waits = hdrhistogram.New(1, 3_600_000_000_000, 2)
	}
	for i, w := range p.workers {
		s.Executed += w.pub.executed.Load()
		if w.ext != nil {
			s.Executed += w.ext.Executed.Load() // load: snapshot of the foreign owner's own joins (ext.go)
		}
		s.Stolen += w.pub.stolen.Load()
		s.StealAttempts += w.pub.stealAttempts.Load()
		s.Parks += w.pub.parks.Load()
		s.LocalSteals += w.pub.localSteals.Load()
		s.RemoteSteals += w.pub.remoteSteals.Load()
		s.BusyNs[i] = w.pub.busyNs.Load()
		s.IdleNs[i] = w.pub.idleNs.Load()
		if merged != nil && w.hist != nil {
			w.histMu.Lock()
			merged.Merge(w.hist)
			waits.Merge(w.waits)
			w.histMu.Unlock()
		}
	}
	if merged != nil {
		s.LatencyCount = merged.TotalCount()
		s.LatencyP50Ns = merged.ValueAtQuantile(50)
		s.LatencyP90Ns = merged.ValueAtQuantile(90)
		s.LatencyP99Ns = merged.ValueAtQuantile(99)
		s.LatencyP999Ns = merged.ValueAtQuantile(99.9)
		s.WaitCount = waits.TotalCount()
		s.WaitP50Ns = waits.ValueAtQuantile(50)
		s.WaitP99Ns = waits.ValueAtQuantile(99)
		s.WaitP999Ns = waits.ValueAtQuantile(99.9)
	}
	return s
}
