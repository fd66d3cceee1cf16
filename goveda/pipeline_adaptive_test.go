package goveda

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// Adaptive policy and stages that block inside their body (a C callback that blocks or spins):
// work queued while every active worker is inside a long task must wake a suspended worker.

// waitShrunk waits until the adaptive monitor of an idle rt let all but one worker go. A state
// poll (the monitor shrinks after 5 ticks of low utilization), not a timing assertion.
func waitShrunk(t *testing.T, rt *Runtime) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rt.ActiveWorkers() > 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rt.ActiveWorkers() != 1 {
		t.Fatalf("idle adaptive pool kept %d active workers", rt.ActiveWorkers())
	}
}

// rendezvous is a reusable barrier of two parties: arrive blocks until a second party arrived
// in the same round, or gives up after limit (the test's failure: the stage ran alone).
type rendezvous struct {
	ch chan chan struct{} // holds the waiting party's channel, if one waits
}

func newRendezvous() *rendezvous { return &rendezvous{ch: make(chan chan struct{}, 1)} }

func (r *rendezvous) arrive(limit time.Duration) bool {
	select {
	case c := <-r.ch: // a party waits: release it
		close(c)
		return true
	default:
	}
	c := make(chan struct{})
	select {
	case r.ch <- c:
	case o := <-r.ch: // lost a race with another arriving party
		close(o)
		return true
	}
	select {
	case <-c:
		return true
	case <-time.After(limit):
		select {
		case o := <-r.ch: // still ours: withdraw
			if o != c {
				close(o)
				return true
			}
			return false
		case <-c:
			return true
		}
	}
}

// TestPipelineAdaptiveBlockedStage: on a 2-worker adaptive pool that shrank to one active worker,
// a parallel stage whose body blocks until a second item is inside the stage at the same time.
// The second item can only get there on the second worker, so the run needs the suspended worker
// to be woken while the first worker is blocked in the body. Rounds of rendezvous (pairs of items)
// repeat it while the run goes on.
func TestPipelineAdaptiveBlockedStage(t *testing.T) {
	for _, policy := range []Policy{PolicyAdaptive, PolicyEnergyEfficient} {
		t.Run(policy.String(), func(t *testing.T) {
			rt := newRT(t, Config{Workers: 2, Policy: policy})
			const items = 16
			for run := 0; run < 2; run++ {
				waitShrunk(t, rt)
				rv := newRendezvous()
				var inside, peak atomic.Int32
				p, err := NewPipeline(rt, PipelineOptions[int]{MaxInFlight: 4})
				if err != nil {
					t.Fatal(err)
				}
				_ = p.Stage("block", StageParallel, func(_ context.Context, seq int64, x int) (int, error) {
					n := inside.Add(1)
					casMaxInt32(&peak, n)
					defer inside.Add(-1)
					if !rv.arrive(10 * time.Second) {
						return x, fmt.Errorf("item %d: no second item entered the stage (one worker ran it)", seq)
					}
					return x, nil
				})
				var next int64
				_ = p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq int64, x int) (int, error) {
					if seq != next {
						return x, fmt.Errorf("sink got %d, want %d", seq, next)
					}
					next++
					return x, nil
				})
				if err := p.Run(bg, SourceFunc(func(_ context.Context, seq int64) (int, bool, error) { return int(seq), seq < items, nil })); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if next != items || peak.Load() < 2 {
					t.Fatalf("run %d: %d items passed, peak %d in the stage", run, next, peak.Load())
				}
			}
		})
	}
}

func casMaxInt32(a *atomic.Int32, v int32) {
	for {
		c := a.Load()
		if v <= c || a.CompareAndSwap(c, v) {
			return
		}
	}
}

// TestPipelineAdaptiveLongSink is the memory benchmark's shape: a serial sink that blocks for a
// long time in one item (a slow writer) while the other workers have nothing to do, so the
// adaptive monitor lets them go, and then, still inside the sink (the next stashed item runs on
// the same worker), the sink needs work that the run queued meanwhile: item 1's sink body waits
// until item 3 is inside the parallel stage, and item 3 is read by a task queued when item 0
// left the sink. Only another worker can run it.
func TestPipelineAdaptiveLongSink(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyAdaptive})
	for run := 0; run < 2; run++ {
		rv := newRendezvous()
		p, err := NewPipeline(rt, PipelineOptions[int]{MaxInFlight: 3})
		if err != nil {
			t.Fatal(err)
		}
		_ = p.Stage("par", StageParallel, func(_ context.Context, seq int64, x int) (int, error) {
			if seq == 3 && !rv.arrive(10*time.Second) {
				return x, fmt.Errorf("item 3 met no sink")
			}
			return x, nil
		})
		var next int64
		_ = p.Stage("sink", StageSerialInOrder, func(_ context.Context, seq int64, x int) (int, error) {
			if seq != next {
				return x, fmt.Errorf("sink got %d, want %d", seq, next)
			}
			next++
			switch seq {
			case 0:
				// Long enough for an idle second worker to be let go (5 ticks of 10 ms) and
				// for the monitor to go quiet (5 more); the assertion below is not timed.
				time.Sleep(300 * time.Millisecond)
			case 1:
				if !rv.arrive(10 * time.Second) {
					return x, fmt.Errorf("the sink at item 1 waited for item 3 in vain: the queued read never ran on another worker")
				}
			}
			return x, nil
		})
		if err := p.Run(bg, SourceFunc(func(_ context.Context, seq int64) (int, bool, error) { return int(seq), seq < 8, nil })); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
}
