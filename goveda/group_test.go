package goveda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// groupFib computes fib(n) with a Group per call, spawned and waited from tasks (nested groups).
func groupFib(rt *Runtime, n int) (int, error) {
	if n < 10 {
		a, b := 0, 1
		for i := 0; i < n; i++ {
			a, b = b, a+b
		}
		return a, nil
	}
	g := rt.NewGroup()
	var x, y int
	var ex, ey error
	if err := g.Spawn(func() error { x, ex = groupFib(rt, n-1); return ex }); err != nil {
		return 0, err
	}
	if err := g.Spawn(func() error { y, ey = groupFib(rt, n-2); return ey }); err != nil {
		return 0, err
	}
	if err := g.Close(); err != nil {
		return 0, err
	}
	return x + y, nil
}

func TestGroupBasics(t *testing.T) {
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRT(t, tc.cfg)
			g := rt.NewGroup()
			const n = 1000
			var runs [n]atomic.Int32
			for i := 0; i < n; i++ {
				if err := g.Spawn(func() error { runs[i].Add(1); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			for i := range runs {
				if r := runs[i].Load(); r != 1 {
					t.Fatalf("task %d ran %d times", i, r)
				}
			}
			if err := g.Wait(); err != nil { // empty group: returns at once
				t.Fatal(err)
			}
			// nested groups from tasks, helping waits: no deadlock at any worker count
			var got int
			if err := rt.Scope(bg, func(s *Scope) {
				s.Spawn(func() error { var err error; got, err = groupFib(rt, 24); return err })
			}); err != nil {
				t.Fatal(err)
			}
			if got != 46368 {
				t.Fatalf("fib(24) through groups = %d, want 46368", got)
			}
		})
	}
}

// TestGroupNestedSpawns: tasks spawn into their own group while they run; one Wait covers the
// whole tree (every node exactly once).
func TestGroupNestedSpawns(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	g := rt.NewGroup()
	const depth = 8 // 2^9-1 nodes, each sleeping briefly (so the waiter gets a P while they run)
	var nodes atomic.Int64
	var spawnErr atomic.Pointer[error]
	var node func(d int) func() error
	node = func(d int) func() error {
		return func() error {
			time.Sleep(50 * time.Microsecond)
			nodes.Add(1)
			if d < depth {
				for k := 0; k < 2; k++ {
					if err := g.Spawn(node(d + 1)); err != nil {
						spawnErr.Store(&err)
					}
				}
			}
			return nil
		}
	}
	// The root holds until Wait has begun, so the whole tree is spawned during the Wait.
	release := make(chan struct{})
	if err := g.Spawn(func() error { <-release; return node(0)() }); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error)
	go func() { waited <- g.Wait() }()
	time.Sleep(5 * time.Millisecond)
	close(release)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if p := spawnErr.Load(); p != nil {
		t.Fatal(*p)
	}
	if got, want := nodes.Load(), int64(1)<<(depth+1)-1; got != want {
		t.Fatalf("Wait returned after %d of %d nested tasks", got, want)
	}
}

func TestGroupErrors(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	g := rt.NewGroup()
	boom := errors.New("boom")
	if err := g.Spawn(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Spawn(nil) = %v", err)
	}
	var ran atomic.Int32
	_ = g.Spawn(func() error { return boom })
	_ = g.Spawn(func() error { ran.Add(1); return nil })
	if err := g.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait = %v, want boom", err)
	}
	// reported once; the group is reusable
	if err := g.Wait(); err != nil {
		t.Fatalf("second Wait = %v", err)
	}
	_ = g.Spawn(func() error { ran.Add(1); return nil })
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	// an error of a round that finished before another round opened is not lost
	_ = g.Spawn(func() error { return boom })
	for g.round.Load() != nil && !g.round.Load().finished() {
		runtime.Gosched()
	}
	_ = g.Spawn(func() error { return nil })
	if err := g.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait after two rounds = %v, want boom", err)
	}
	// a panic becomes a *PanicError
	_ = g.Spawn(func() error { panic("kaput") })
	var pe *PanicError
	if err := g.Wait(); !errors.As(err, &pe) || !errors.Is(err, ErrTaskFailed) || pe.Value != "kaput" {
		t.Fatalf("Wait after panic = %v", err)
	}
	// Close waits, then refuses spawns
	var slow atomic.Bool
	_ = g.Spawn(func() error { time.Sleep(20 * time.Millisecond); slow.Store(true); return nil })
	if err := g.Close(); err != nil || !slow.Load() {
		t.Fatalf("Close = %v, task finished %v", err, slow.Load())
	}
	if err := g.Spawn(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Spawn after Close = %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	// a closed runtime refuses outside spawns
	rt2, _ := New(Config{Workers: 1})
	g2 := rt2.NewGroup()
	_ = rt2.Close()
	if err := g2.Spawn(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Spawn on closed runtime = %v", err)
	}
}

// TestGroupSpawnRacesWait is the race the C ABI's old group (a background Scope) lost: spawns
// land on every edge of a Wait (before it, while it drains, as it returns). More spawner
// goroutines than Ps, one worker, tiny tasks: the group empties and refills all the time. For
// Spawners work in short bursts and let their last task run before the next one, so the group
// also empties between bursts and Waits return (and new rounds open) thousands of times. For every Wait: each task whose Spawn returned before the Wait began has run when it returns; no
// Spawn fails; at the end every task ran exactly once.
func TestGroupSpawnRacesWait(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("w%d", workers), func(t *testing.T) {
			rt := newRT(t, Config{Workers: workers})
			const spawners, per = 8, 2000
			rounds := 4
			if testing.Short() {
				rounds = 2
			}
			totalWaits := 0
			for round := 0; round < rounds; round++ {
				g := rt.NewGroup()
				var runs [spawners][per]atomic.Int32
				var returned [spawners]atomic.Int64
				var left atomic.Int32
				left.Store(spawners)
				var wg sync.WaitGroup
				errs := make(chan error, spawners*per+16)
				for k := 0; k < spawners; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer left.Add(-1)
						for i := 0; i < per; i++ {
							if err := g.Spawn(func() error { runs[k][i].Add(1); return nil }); err != nil {
								errs <- fmt.Errorf("spawn %d/%d: %w", k, i, err)
								return
							}
							returned[k].Store(int64(i + 1))
							if i%(k+1) == 0 { // bursts of 1..8 spawns; then until the burst's last task ran
								for runs[k][i].Load() == 0 {
									runtime.Gosched()
								}
							}
						}
					}()
				}
				waits := 0
				var from [spawners]int64
				for left.Load() > 0 {
					var upto [spawners]int64
					for k := range upto {
						upto[k] = returned[k].Load()
					}
					if err := g.Wait(); err != nil {
						errs <- fmt.Errorf("wait: %w", err)
					}
					waits++
					for k := range upto {
						for i := from[k]; i < upto[k]; i++ {
							if runs[k][i].Load() == 0 {
								errs <- fmt.Errorf("task %d/%d spawned before Wait had not run when it returned", k, i)
							}
						}
						from[k] = upto[k]
					}
				}
				wg.Wait()
				if err := g.Close(); err != nil {
					t.Fatal(err)
				}
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				for k := range runs {
					for i := range runs[k] {
						if r := runs[k][i].Load(); r != 1 {
							t.Fatalf("task %d/%d ran %d times", k, i, r)
						}
					}
				}
				totalWaits += waits
				if round == rounds-1 && totalWaits < 10*rounds {
					t.Fatalf("only %d waits in %d rounds raced the spawns: the test no longer exercises the race", totalWaits, rounds)
				}
				if round == 0 {
					t.Logf("%d spawns from %d goroutines racing %d waits", spawners*per, spawners, waits)
				}
			}
		})
	}
}

// TestGroupCloseRacesSpawn: spawns that race Close either fail with ErrClosed or have run when
// Close returns.
func TestGroupCloseRacesSpawn(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	for round := 0; round < 200; round++ {
		g := rt.NewGroup()
		const spawners = 4
		var accepted, ran atomic.Int64
		var start, wg sync.WaitGroup
		start.Add(1)
		for k := 0; k < spawners; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				for i := 0; i < 50; i++ {
					err := g.Spawn(func() error { ran.Add(1); return nil })
					if err == nil {
						accepted.Add(1)
					} else if !errors.Is(err, ErrClosed) {
						t.Error(err)
					}
				}
			}()
		}
		start.Done()
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		got := ran.Load()
		wg.Wait()
		if a := accepted.Load(); got != a {
			t.Fatalf("round %d: Close returned with %d of %d accepted tasks run", round, got, a)
		}
	}
}
