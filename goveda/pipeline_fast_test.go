package goveda

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// The serial-stage hand-off (serialState's one-word fast path and its locked slow path) and the
// recycled items under contention: cheap items, so that enters, leaves and stashes race.

// TestPipelineSerialHandoffStress: 4 workers, zero-work stages (every other run with 3 us in the
// parallel stages, so that items spread over the workers) (parallel, in order, out of
// order, in order, parallel, in order), with a plain (unsynchronized) counter in every serial
// stage: the race detector sees a serial stage that ran two items at once, or a turn that did not
// happen after the previous one. Every run checks the order at each in-order stage, exactly-once,
// and, with a random failure, the clean prefix.
func TestPipelineSerialHandoffStress(t *testing.T) {
	rt := newRT(t, Config{Workers: 4, Policy: PolicyFixed})
	rng := rand.New(rand.NewSource(12))
	stashed := 0 // serial stages that stashed items (the slow paths ran)
	defer func() {
		if !t.Failed() && stashed == 0 {
			t.Error("no serial stage ever stashed an item: the test did not exercise the hand-off")
		}
		t.Logf("%d serial stages stashed items", stashed)
	}()
	for run := 0; run < 40; run++ {
		n := int64(500 + rng.Intn(1500))
		spread := run%2 == 0
		failAt := int64(-1)
		failStage := -1
		if run%3 == 2 {
			failAt = rng.Int63n(n)
			failStage = rng.Intn(6)
		}
		l := newLedger()
		p, err := NewPipeline(rt, PipelineOptions[int64]{MaxInFlight: 1 + rng.Intn(32), Drop: func(s, _ int64) { l.drop(s) }})
		if err != nil {
			t.Fatal(err)
		}
		modes := []StageMode{StageParallel, StageSerialInOrder, StageSerialOutOfOrder, StageSerialInOrder, StageParallel, StageSerialInOrder}
		counts := make([]int64, len(modes)) // plain: only serial stages touch theirs
		nexts := make([]int64, len(modes))
		var orderErr error
		for k, m := range modes {
			k, m := k, m
			must(t, p.Stage(fmt.Sprint("s", k), m, func(_ context.Context, seq, x int64) (int64, error) {
				if m != StageParallel {
					counts[k]++
				} else if spread {
					spinFor(3 * time.Microsecond) // enough stage work for read-ahead: items spread over the workers
				}
				if m == StageSerialInOrder {
					if seq != nexts[k] && orderErr == nil {
						orderErr = fmt.Errorf("stage %d: got %d, want %d", k, seq, nexts[k])
					}
					nexts[k] = seq + 1
				}
				if k == failStage && seq == failAt {
					return x, errors.New("boom")
				}
				if k == len(modes)-1 {
					l.pass(seq)
				}
				return x + 1, nil
			}))
		}
		err = p.Run(bg, countSource(l, n))
		if orderErr != nil {
			t.Fatalf("run %d: %v", run, orderErr)
		}
		if failAt >= 0 {
			var pe *PipelineError
			if !errors.As(err, &pe) || pe.Seq != failAt || pe.StageIndex != failStage {
				t.Fatalf("run %d: err %v, want a failure at item %d in stage %d", run, err, failAt, failStage)
			}
			l.check(t, failAt, false)
		} else {
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			l.check(t, -2, false)
			for k, m := range modes {
				if m != StageParallel && counts[k] != n {
					t.Fatalf("run %d: serial stage %d ran %d items, want %d", run, k, counts[k], n)
				}
			}
		}
		st := p.Stats()
		for _, ss := range st.Stages {
			if ss.Mode != "parallel" && ss.PeakQueueDepth > 0 {
				stashed++
			}
		}
		if st.ItemsRead != uint64(l.read.Load()) || st.ItemsPassed+st.ItemsDropped != st.ItemsRead {
			t.Fatalf("run %d: stats read %d passed %d dropped %d, source produced %d", run, st.ItemsRead, st.ItemsPassed, st.ItemsDropped, l.read.Load())
		}
	}
}

// spinFor busy-waits for d (a stage body that keeps its worker).
func spinFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}
