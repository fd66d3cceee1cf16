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
					casMax32(&peak, n)
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
