package goveda

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Join from outside the pool: fb is queued for the workers, fa runs on the caller in an
// execution slot, and fb too when no worker took it. These tests pin the rules that change
// brings: results and errors as from a task, Workers a hard cap on bodies at once (the caller
// counts), deep nesting from outside with one worker (no deadlock), many outside callers, and
// fa not being allocated.

func fibSeqT(n int) int {
	if n < 2 {
		return n
	}
	return fibSeqT(n-1) + fibSeqT(n-2)
}

func TestJoinOutsideNestedOneWorker(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		rt := newRT(t, Config{Workers: workers})
		for n := 0; n <= 18; n += 6 {
			if got, want := fibJoin(rt, n+10), fibSeqT(n+10); got != want {
				t.Fatalf("workers %d: fib(%d) = %d from outside, want %d", workers, n+10, got, want)
			}
		}
	}
}

func TestJoinOutsideCapAndManyCallers(t *testing.T) {
	const workers = 2
	rt := newRT(t, Config{Workers: workers})
	var running, peak atomic.Int32
	body := func() (int, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		s := fibSeqT(18)
		time.Sleep(50 * time.Microsecond) // still running: lets other goroutines try to enter meanwhile
		running.Add(-1)
		return s, nil
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				a, b, err := Join(rt, body, body)
				if err != nil || a != fibSeqT(18) || b != a {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d outside Joins returned wrong results", bad.Load())
	}
	if peak.Load() > workers {
		t.Fatalf("%d bodies ran at once on a %d-worker runtime", peak.Load(), workers)
	}
}

func TestJoinOutsideErrorsAndPanics(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	errA, errB := errors.New("a failed"), errors.New("b failed")
	var ranB atomic.Bool
	_, _, err := Join(rt, func() (int, error) { return 0, errA }, func() (int, error) { ranB.Store(true); return 0, errB })
	if !errors.Is(err, errA) || !ranB.Load() {
		t.Fatalf("err %v (want fa's), fb ran %v", err, ranB.Load())
	}
	_, _, err = Join(rt, func() (int, error) { return 1, nil }, func() (int, error) { return 0, errB })
	if !errors.Is(err, errB) {
		t.Fatalf("err %v, want fb's", err)
	}
	_, _, err = Join(rt, func() (int, error) { panic("boom") }, func() (int, error) { return 2, nil })
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("panic in fa from outside: %v", err)
	}
	rt.Close()
	_, _, err = Join(rt, func() (int, error) { t.Error("fa ran on a closed runtime"); return 0, nil },
		func() (int, error) { t.Error("fb ran on a closed runtime"); return 0, nil })
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("closed runtime: %v", err)
	}
}

// TestJoinAllocations: a Join with two closures allocates at most fb's closure (fa stays on the
// caller's stack; the job record is recycled), from a task and from outside.
func TestJoinAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	rt := newRT(t, Config{Workers: 2})
	x := 3
	join := func() {
		_, _, _ = Join(rt, func() (int, error) { return x + 1, nil }, func() (int, error) { return x + 2, nil })
	}
	var inTask float64
	_ = rt.Scope(bg, func(s *Scope) {
		s.Spawn(func() error { inTask = testing.AllocsPerRun(200, join); return nil })
	})
	if inTask > 1 {
		t.Errorf("Join from a task: %.1f allocations per call, want <= 1 (fb's closure)", inTask)
	}
}
