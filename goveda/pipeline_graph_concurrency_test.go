package goveda

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// Graph methods from several goroutines: changes and a second Run during a run are refused (from
// another goroutine and from inside a node), nothing races (run under -race), and the graph runs
// again afterwards.
func TestGraphConcurrentUse(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyFixed})
	g, err := NewGraph(rt, GraphOptions[int]{})
	must(t, err)
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	var inner [4]error
	var sum atomic.Int64
	var first atomic.Bool
	a, err := g.Node("a", StageSerialInOrder, func(_ context.Context, seq int64, x int) (int, error) {
		if seq == 0 && first.CompareAndSwap(false, true) { // the first run only
			// From inside a node: every change and a nested Run of the own graph is refused.
			inner[0] = g.Run(bg, SourceSlice([]int{1}))
			_, inner[1] = g.Node("late", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil })
			inner[2] = g.Edge(g.Source(), 2) // source -> s: valid when not running
			inner[3] = g.SetNodePriority(1, PriorityHigh)
			// Non-blocking: the concurrent Runs below may each get here (one after another),
			// and only the first run's signal is awaited.
			select {
			case entered <- struct{}{}:
			default:
			}
			<-gate
		}
		return x, nil
	})
	must(t, err)
	s, err := g.Sink("s", StageParallel, func(_ context.Context, _ int64, x int) (int, error) { sum.Add(int64(x)); return x, nil })
	must(t, err)
	must(t, g.Edge(g.Source(), a))
	must(t, g.Edge(a, s))
	done := make(chan error, 1)
	go func() { done <- g.Run(bg, SourceSlice([]int{1, 2, 3, 4})) }()
	<-entered
	for i, e := range inner {
		if !errors.Is(e, ErrInvalidArgument) {
			t.Errorf("inside a node, call %d: %v, want ErrInvalidArgument", i, e)
		}
	}
	// From another goroutine, while the run is in progress.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				errs[i] = g.Run(bg, SourceSlice([]int{1}))
			case 1:
				_, errs[i] = g.Sink("late"+string(rune('a'+i)), StageParallel, func(_ context.Context, _ int64, x int) (int, error) { return x, nil })
			case 2:
				errs[i] = g.Edge(g.Source(), s)
			case 3:
				errs[i] = g.SetNodePriority(a, PriorityLow)
			}
			_ = g.Validate() // allowed during a run (reads the structure under the lock)
			_ = g.Nodes()
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if !errors.Is(e, ErrInvalidArgument) {
			t.Errorf("during a run, call %d: %v, want ErrInvalidArgument", i, e)
		}
	}
	close(gate)
	must(t, <-done)
	if sum.Load() != 10 || g.Nodes() != 3 {
		t.Fatalf("sum %d, %d nodes", sum.Load(), g.Nodes())
	}
	// Concurrent Runs racing to start: each either runs fully or is refused.
	sum.Store(0)
	var ok atomic.Int64
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.Run(bg, SourceSlice([]int{1, 2, 3, 4}))
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, ErrInvalidArgument):
				t.Errorf("concurrent Run: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() < 1 || sum.Load() != 10*ok.Load() {
		t.Fatalf("%d runs succeeded, sum %d", ok.Load(), sum.Load())
	}
}

// SetNodePriority: its errors, and the compiled stage carries the priority.
func TestGraphSetNodePriority(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	g, _ := NewGraph(rt, GraphOptions[int]{})
	id := func(_ context.Context, _ int64, x int) (int, error) { return x, nil }
	s, _ := g.Sink("s", StageSerialInOrder, id, StagePriority(PriorityLow))
	a, _ := g.Node("a", StageParallel, id)
	must(t, g.Edge(g.Source(), a))
	must(t, g.Edge(a, s))
	for name, err := range map[string]error{
		"source":   g.SetNodePriority(g.Source(), PriorityHigh),
		"unknown":  g.SetNodePriority(9, PriorityHigh),
		"negative": g.SetNodePriority(-1, PriorityHigh),
		"priority": g.SetNodePriority(a, Priority(7)),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	must(t, g.SetNodePriority(a, PriorityHigh))
	must(t, g.SetNodePriority(s, PriorityBackground)) // replaces the StagePriority given to Sink
	must(t, g.Run(bg, SourceSlice([]int{1, 2, 3})))
	got := map[string]Priority{}
	for _, st := range g.p.stages {
		if !st.hasPrio {
			t.Fatalf("stage %q has no priority", st.name)
		}
		got[st.name] = st.prio
	}
	if got["a"] != PriorityHigh || got["s"] != PriorityBackground {
		t.Fatalf("priorities %v", got)
	}
}

// A failure's StageIndex is the node's id, not its position in the compiled order.
func TestGraphErrorNamesNode(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	g, _ := NewGraph(rt, GraphOptions[int]{})
	boom := errors.New("boom")
	s, _ := g.Sink("s", StageSerialInOrder, func(_ context.Context, _ int64, x int) (int, error) { return x, nil })
	a, _ := g.Node("a", StageParallel, func(_ context.Context, seq int64, x int) (int, error) {
		if seq == 5 {
			return x, boom
		}
		return x, nil
	})
	must(t, g.Edge(g.Source(), a))
	must(t, g.Edge(a, s))
	err := g.Run(bg, SourceSlice(make([]int, 20)))
	var pe *PipelineError
	if !errors.As(err, &pe) || pe.StageIndex != int(a) || pe.Stage != "a" || pe.Seq != 5 || !errors.Is(err, boom) ||
		!errors.Is(err, ErrTaskFailed) {
		t.Fatalf("error %v (%+v), want node %d (\"a\") at item 5", err, pe, a)
	}
}
