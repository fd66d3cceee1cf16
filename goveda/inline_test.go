package goveda

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One-chunk loops from outside goroutines run inline on the caller when a slot is free (see
// internal/sched/inline.go). Whatever runs where, bodies executing at once never exceed Workers,
// nested calls from an inline body complete (Workers == 1 included), and every call runs its body
// exactly once.
func TestInlineOneChunkKeepsTheCap(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		rt := sliceRT(t, workers)
		var running, peak, calls atomic.Int64
		enter := func() {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					err := rt.ParallelFor(context.Background(), 0, 1, 1, func(lo, hi int) error {
						enter()
						calls.Add(1)
						if i%10 == 0 { // nested: a one-chunk call and a splitting loop from inside
							running.Add(-1)
							err := rt.ParallelFor(context.Background(), 0, 1, 1, func(int, int) error {
								enter()
								running.Add(-1)
								return nil
							})
							if err == nil {
								err = rt.ParallelFor(context.Background(), 0, 64, 1, func(int, int) error {
									enter()
									time.Sleep(time.Microsecond)
									running.Add(-1)
									return nil
								})
							}
							enter()
							if err != nil {
								running.Add(-1)
								return err
							}
						}
						running.Add(-1)
						return nil
					})
					if err != nil {
						errs <- err
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if calls.Load() != 8*200 {
			t.Fatalf("workers %d: %d body calls, want %d", workers, calls.Load(), 8*200)
		}
		if p := peak.Load(); p > int64(workers) {
			t.Fatalf("workers %d: %d bodies ran at once", workers, p)
		}
		if m := rt.Metrics(); m.TasksExecuted == 0 {
			t.Fatalf("workers %d: metrics count no task", workers)
		}
	}
}

// An inline body that waits from outside for pool work (a Scope, a Future, a Group) lends its
// slot while it waits: with one worker this would deadlock otherwise.
func TestInlineBodyWaitsLendTheSlot(t *testing.T) {
	rt := sliceRT(t, 1)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Microsecond) // let the worker park, so the next call runs inline
		err := rt.ParallelFor(ctx, 0, 1, 1, func(int, int) error {
			if err := rt.Scope(ctx, func(s *Scope) { s.Spawn(func() error { return nil }) }); err != nil {
				return err
			}
			if _, err := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { return 1, nil }).Wait(ctx); err != nil {
				return err
			}
			g := rt.NewGroup()
			if err := g.Spawn(func() error { return nil }); err != nil {
				return err
			}
			return g.Wait()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
