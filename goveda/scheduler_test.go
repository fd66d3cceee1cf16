package goveda

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var bg = context.Background()

func newRT(t testing.TB, cfg Config) *Runtime {
	t.Helper()
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

var testConfigs = []struct {
	name string
	cfg  Config
}{
	{"w1-fixed", Config{Workers: 1, Policy: PolicyFixed}},
	{"w2-adaptive", Config{Workers: 2}},
	{"w4-fixed", Config{Workers: 4, Policy: PolicyFixed}},
	{"w3-det", Config{Workers: 3, Policy: PolicyDeterministic, Seed: 7}},
	{"w2-lowlat", Config{Workers: 2, Policy: PolicyLowLatency}},
	{"w2-energy", Config{Workers: 2, Policy: PolicyEnergyEfficient}},
}

func TestNewValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"negative-workers", Config{Workers: -1}, false},
		{"huge-workers", Config{Workers: maxWorkers + 1}, false},
		{"bad-policy", Config{Policy: 9}, false},
		{"negative-policy", Config{Policy: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, err := New(c.cfg)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if rt.Workers() < 1 || rt.ActiveWorkers() < 1 || rt.Policy() != c.cfg.Policy {
					t.Fatalf("workers %d active %d", rt.Workers(), rt.ActiveWorkers())
				}
				if err := rt.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "veda: ") {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestParallelForExactlyOnce(t *testing.T) {
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRT(t, tc.cfg)
			rng := rand.New(rand.NewSource(1))
			for iter := 0; iter < 40; iter++ {
				begin := rng.Intn(1000) - 500
				n := rng.Intn(20000)
				if iter%10 == 0 {
					n = rng.Intn(3)
				}
				grain := rng.Intn(64)
				seen := make([]int32, n)
				var small atomic.Int32
				err := rt.ParallelFor(bg, begin, begin+n, grain, func(lo, hi int) error {
					if hi-lo < grain && hi-lo != n {
						small.Add(1)
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&seen[i-begin], 1)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range seen {
					if v != 1 {
						t.Fatalf("range [%d,%d) grain %d: index %d visited %d times", begin, begin+n, grain, begin+i, v)
					}
				}
				if small.Load() != 0 {
					t.Fatalf("grain %d: %d chunks smaller than grain", grain, small.Load())
				}
			}
		})
	}
}

func TestParallelForArguments(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	called := false
	body := func(lo, hi int) error { called = true; return nil }
	cases := []struct {
		name              string
		begin, end, grain int
		body              func(lo, hi int) error
		wantErr           error
	}{
		{"end<begin", 5, 4, 0, body, ErrInvalidArgument},
		{"negative-grain", 0, 4, -1, body, ErrInvalidArgument},
		{"nil-body", 0, 4, 0, nil, ErrInvalidArgument},
		{"empty", 3, 3, 0, body, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := rt.ParallelFor(bg, c.begin, c.end, c.grain, c.body)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
		})
	}
	if called {
		t.Fatal("body called for an empty or invalid range")
	}
}

func TestReduceMatchesSequential(t *testing.T) {
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRT(t, tc.cfg)
			rng := rand.New(rand.NewSource(2))
			for iter := 0; iter < 30; iter++ {
				begin := rng.Intn(100)
				n := rng.Intn(50000)
				grain := rng.Intn(100)
				var want int64
				for i := begin; i < begin+n; i++ {
					want += int64(i) * int64(i%7)
				}
				got, err := Reduce(bg, rt, begin, begin+n, grain, int64(0),
					func(lo, hi int, acc int64) int64 {
						for i := lo; i < hi; i++ {
							acc += int64(i) * int64(i%7)
						}
						return acc
					}, func(a, b int64) int64 { return a + b })
				if err != nil || got != want {
					t.Fatalf("Reduce = %d, %v; want %d", got, err, want)
				}
			}
			// Non-commutative combine: concatenation order must be left to right.
			s, err := Reduce(bg, rt, 0, 500, 3, "", func(lo, hi int, acc string) string {
				for i := lo; i < hi; i++ {
					acc += string(rune('a' + i%26))
				}
				return acc
			}, func(a, b string) string { return a + b })
			var want strings.Builder
			for i := 0; i < 500; i++ {
				want.WriteRune(rune('a' + i%26))
			}
			if err != nil || s != want.String() {
				t.Fatalf("ordered reduce wrong: %v", err)
			}
		})
	}
}

func TestDeterministicBitwise(t *testing.T) {
	const n = 1_000_003
	sum := func(workers, grain int) float64 {
		rt := newRT(t, Config{Workers: workers, Policy: PolicyDeterministic, Seed: 42})
		v, err := Reduce(bg, rt, 0, n, grain, 0.0, func(lo, hi int, acc float64) float64 {
			for i := lo; i < hi; i++ {
				acc += math.Sin(float64(i)) / float64(i+1)
			}
			return acc
		}, func(a, b float64) float64 { return a + b })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, grain := range []int{0, 1000, 77777} {
		ref := sum(1, grain)
		for _, w := range []int{1, 2, 4} {
			for run := 0; run < 3; run++ {
				if got := sum(w, grain); math.Float64bits(got) != math.Float64bits(ref) {
					t.Fatalf("grain %d workers %d run %d: %x != %x", grain, w, run, math.Float64bits(got), math.Float64bits(ref))
				}
			}
		}
	}
}

// TestDeepNesting: 10,000 levels of Join, with a Scope holding a nested ParallelFor every 500
// levels. No deadlock and no stack overflow.
func TestDeepNesting(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		t.Run("w"+string(rune('0'+workers)), func(t *testing.T) {
			rt := newRT(t, Config{Workers: workers, Policy: PolicyFixed})
			var leaves atomic.Int64
			var rec func(d int) (int, error)
			rec = func(d int) (int, error) {
				if d == 0 {
					return 1, nil
				}
				if d%500 == 0 {
					err := rt.Scope(bg, func(s *Scope) {
						s.Spawn(func() error {
							return rt.ParallelFor(bg, 0, 64, 1, func(lo, hi int) error {
								leaves.Add(int64(hi - lo))
								return nil
							})
						})
					})
					if err != nil {
						return 0, err
					}
				}
				a, b, err := Join(rt, func() (int, error) { return rec(d - 1) },
					func() (int, error) { return 1, nil })
				return a + b, err
			}
			v, _, err := Join(rt, func() (int, error) { return rec(10000) }, func() (int, error) { return 0, nil })
			if err != nil || v != 10001 {
				t.Fatalf("rec = %d", v)
			}
			if leaves.Load() != 20*64 {
				t.Fatalf("leaves = %d", leaves.Load())
			}
		})
	}
}

func TestMillionTinyTasks(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyFixed})
	const n = 1 << 20
	var count atomic.Int64
	var spawnRange func(s *Scope, lo, hi int)
	spawnRange = func(s *Scope, lo, hi int) {
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			m, h := mid, hi
			s.Spawn(func() error { spawnRange(s, m, h); return nil })
			hi = mid
		}
		count.Add(1)
	}
	if err := rt.Scope(bg, func(s *Scope) { spawnRange(s, 0, n) }); err != nil {
		t.Fatal(err)
	}
	if count.Load() != n {
		t.Fatalf("ran %d tasks, want %d", count.Load(), n)
	}
	// Workers publish their counters when they go idle (and every 1024 tasks), so once the pool
	// is quiet the snapshot must count every task: n-1 spawned children (Scope's own function,
	// which counted index 0, runs on the caller, not as a task).
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := rt.Metrics()
		if m.TasksExecuted == n-1 {
			break
		}
		if m.TasksExecuted > n-1 || time.Now().After(deadline) {
			t.Fatalf("Metrics counts %d executed tasks after the pool went idle, want %d", m.TasksExecuted, n-1)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrentSubmitters(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	var wg sync.WaitGroup
	var total atomic.Int64
	start := make(chan struct{})
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			futs := make([]*Future[int], 0, 20)
			for i := 0; i < 20; i++ {
				futs = append(futs, Submit(rt, TaskOptions{Priority: PriorityRealtime + Priority(i%numPriorities)},
					func(context.Context) (int, error) { return 1, nil }))
			}
			if err := rt.ParallelFor(bg, 0, 100, 1, func(lo, hi int) error {
				total.Add(int64(hi - lo))
				return nil
			}); err != nil {
				t.Error(err)
			}
			for _, f := range futs {
				v, err := f.Wait(bg)
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(v))
			}
		}(g)
	}
	close(start)
	wg.Wait()
	if total.Load() != 64*120 {
		t.Fatalf("total %d", total.Load())
	}
}

func TestCloseWhileBusy(t *testing.T) {
	for round := 0; round < 5; round++ {
		rt, err := New(Config{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		var ran atomic.Int64
		var accepted []*Future[int]
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) {
						// Nested work inside a task keeps running during Close.
						_ = rt.ParallelFor(bg, 0, 10, 1, func(lo, hi int) error { return nil })
						ran.Add(1)
						return 1, nil
					})
					mu.Lock()
					accepted = append(accepted, f)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Millisecond)
		done := make(chan error)
		go func() { done <- rt.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Close hung")
		}
		wg.Wait()
		var ok, closed int64
		for _, f := range accepted {
			if !f.IsDone() {
				t.Fatal("a future was neither run nor failed after Close")
			}
			_, err := f.Wait(bg)
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrClosed):
				closed++
			default:
				t.Fatal(err)
			}
		}
		if ok != ran.Load() || ok+closed != int64(len(accepted)) {
			t.Fatalf("ok %d ran %d closed %d total %d", ok, ran.Load(), closed, len(accepted))
		}
		if err := rt.Close(); !errors.Is(err, ErrClosed) {
			t.Fatalf("second Close = %v", err)
		}
		if err := rt.ParallelFor(bg, 0, 10, 0, func(lo, hi int) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Fatalf("ParallelFor after Close = %v", err)
		}
		if err := rt.Scope(bg, func(*Scope) {}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Scope after Close = %v", err)
		}
		if _, _, err := Join(rt, func() (int, error) { return 0, nil }, func() (int, error) { return 0, nil }); !errors.Is(err, ErrClosed) {
			t.Fatalf("Join after Close = %v", err)
		}
	}
}

func TestErrorsAndPanics(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	myErr := errors.New("mine")
	cases := []struct {
		name      string
		run       func() error
		want      error
		wantPanic bool
	}{
		{"parallelfor-error", func() error {
			return rt.ParallelFor(bg, 0, 1000, 1, func(lo, hi int) error {
				if lo <= 500 && 500 < hi {
					return myErr
				}
				return nil
			})
		}, myErr, false},
		{"parallelfor-panic", func() error {
			return rt.ParallelFor(bg, 0, 1000, 1, func(lo, hi int) error {
				if lo <= 7 && 7 < hi {
					panic("boom")
				}
				return nil
			})
		}, ErrTaskFailed, true},
		{"reduce-panic", func() error {
			_, err := Reduce(bg, rt, 0, 100, 1, 0, func(lo, hi, acc int) int { panic("fold") },
				func(a, b int) int { return a + b })
			return err
		}, ErrTaskFailed, true},
		{"scope-error", func() error {
			return rt.Scope(bg, func(s *Scope) {
				s.Spawn(func() error { return nil })
				s.Spawn(func() error { return myErr })
			})
		}, myErr, false},
		{"scope-body-panic", func() error {
			return rt.Scope(bg, func(s *Scope) { panic(myErr) })
		}, myErr, true},
		{"join-panic-b", func() error {
			_, _, err := Join(rt, func() (int, error) { return 1, nil }, func() (int, error) { panic("b") })
			return err
		}, ErrTaskFailed, true},
		{"join-error-a", func() error {
			_, _, err := Join(rt, func() (int, error) { return 0, myErr }, func() (int, error) { return 1, nil })
			return err
		}, myErr, false},
		{"future-panic", func() error {
			_, err := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { panic("f") }).Wait(bg)
			return err
		}, ErrTaskFailed, true},
		{"nested-in-task", func() error {
			_, err := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) {
				return 0, rt.ParallelFor(bg, 0, 10, 1, func(lo, hi int) error { return myErr })
			}).Wait(bg)
			return err
		}, myErr, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := rt.Metrics().TasksPanicked
			err := c.run()
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var pe *PanicError
			if got := errors.As(err, &pe); got != c.wantPanic {
				t.Fatalf("PanicError = %v, want %v (%v)", got, c.wantPanic, err)
			}
			if c.wantPanic && (len(pe.Stack) == 0 || rt.Metrics().TasksPanicked == before) {
				t.Fatal("panic without stack or not counted")
			}
		})
	}
	// The pool still works.
	if err := rt.ParallelFor(bg, 0, 100, 1, func(lo, hi int) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestErrorStopsNewChunks(t *testing.T) {
	rt := newRT(t, Config{Workers: 1, Policy: PolicyDeterministic})
	var chunks atomic.Int32
	err := rt.ParallelFor(bg, 0, 1000, 1, func(lo, hi int) error {
		chunks.Add(1)
		return errors.New("stop")
	})
	if err == nil || chunks.Load() != 1 {
		t.Fatalf("err %v, chunks %d (want 1)", err, chunks.Load())
	}
	var spawned atomic.Int32
	_ = rt.Scope(bg, func(s *Scope) {
		s.Spawn(func() error { return errors.New("first") })
		for i := 0; i < 100; i++ {
			s.Spawn(func() error { spawned.Add(1); return nil })
		}
	})
	// On one worker the LIFO deque runs the last spawned children first; after "first" fails
	// nothing new starts, so at most the 100 ran before it.
	if spawned.Load() > 100 {
		t.Fatal(spawned.Load())
	}
}

func TestCancellation(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	ctx, cancel := context.WithCancel(bg)
	var chunks atomic.Int64
	err := rt.ParallelFor(ctx, 0, 1<<30, 1000, func(lo, hi int) error {
		if chunks.Add(1) == 10 {
			cancel()
		}
		time.Sleep(100 * time.Microsecond)
		return nil
	})
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if chunks.Load() > 100000 {
		t.Fatalf("ran %d chunks after cancel", chunks.Load())
	}
	if err := rt.ParallelFor(ctx, 0, 10, 0, func(lo, hi int) error { return nil }); !errors.Is(err, ErrCancelled) {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(bg, time.Millisecond)
	defer tcancel()
	err = rt.Scope(tctx, func(s *Scope) {
		for i := 0; i < 1000; i++ {
			s.Spawn(func() error { time.Sleep(100 * time.Microsecond); return nil })
		}
	})
	if errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	// Future.Wait with a cancelled context returns while the task keeps running.
	release := make(chan struct{})
	f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { <-release; return 1, nil })
	wctx, wcancel := context.WithTimeout(bg, 5*time.Millisecond)
	defer wcancel()
	if _, err := f.Wait(wctx); !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	close(release)
	if v, err := f.Wait(bg); v != 1 || err != nil {
		t.Fatal(v, err)
	}
}

// blockWorker occupies rt's only worker until the returned func is called.
func blockWorker(t *testing.T, rt *Runtime) func() {
	started, release := make(chan struct{}), make(chan struct{})
	Submit(rt, TaskOptions{Priority: PriorityRealtime}, func(context.Context) (int, error) {
		close(started)
		<-release
		return 0, nil
	})
	<-started
	return func() { close(release) }
}

func TestPriorityOrder(t *testing.T) {
	rt := newRT(t, Config{Workers: 1, Policy: PolicyFixed})
	rt.pool.SetAgingStep(int64(time.Hour)) // no aging in this test
	release := blockWorker(t, rt)
	var mu sync.Mutex
	var order []string
	rec := func(s string) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { mu.Lock(); order = append(order, s); mu.Unlock(); return 0, nil }
	}
	now := time.Now()
	var futs []*Future[int]
	add := func(p Priority, dl time.Duration, name string) {
		o := TaskOptions{Priority: p}
		if dl != 0 {
			o.Deadline = now.Add(dl)
		}
		futs = append(futs, Submit(rt, o, rec(name)))
	}
	add(PriorityBackground, 0, "bg")
	add(PriorityLow, 0, "low")
	add(PriorityNormal, 0, "n1")
	add(PriorityNormal, time.Hour*2, "n-dl2")
	add(PriorityNormal, time.Hour, "n-dl1")
	add(PriorityNormal, 0, "n2")
	add(PriorityHigh, 0, "high")
	add(PriorityRealtime, 0, "rt")
	release()
	for _, f := range futs {
		if _, err := f.Wait(bg); err != nil {
			t.Fatal(err)
		}
	}
	want := "rt high n-dl1 n-dl2 n1 n2 low bg"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
}

func TestAgingNoStarvation(t *testing.T) {
	rt := newRT(t, Config{Workers: 1, Policy: PolicyFixed})
	rt.pool.SetAgingStep(int64(2 * time.Millisecond))
	stop := make(chan struct{})
	var flood sync.WaitGroup
	flood.Add(1)
	go func() { // keeps a backlog of Realtime work, forever
		defer flood.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if rt.pool.Queued() < 50 {
				Submit(rt, TaskOptions{Priority: PriorityRealtime}, func(context.Context) (int, error) {
					time.Sleep(50 * time.Microsecond)
					return 0, nil
				})
			} else {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	time.Sleep(5 * time.Millisecond)
	f := Submit(rt, TaskOptions{Priority: PriorityBackground}, func(context.Context) (int, error) { return 1, nil })
	select {
	case <-f.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("background task starved")
	}
	close(stop)
	flood.Wait()
}

// TestConcurrencyCap: an invariant counter shows no more than Workers bodies at once, even when
// bodies block in system calls (the case where Go adds OS threads) and nest.
func TestConcurrencyCap(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		t.Run("w"+string(rune('0'+workers)), func(t *testing.T) {
			rt := newRT(t, Config{Workers: workers, Policy: PolicyFixed})
			var cur, peak atomic.Int32
			enter := func() {
				c := cur.Add(1)
				for {
					p := peak.Load()
					if c <= p || peak.CompareAndSwap(p, c) {
						break
					}
				}
			}
			body := func(lo, hi int) error {
				enter()
				ts := unix.Timespec{Nsec: 200_000}
				_ = unix.Nanosleep(&ts, nil) // blocks in a syscall
				cur.Add(-1)
				return nil
			}
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = rt.ParallelFor(bg, 0, 40, 1, body)
					_ = rt.Scope(bg, func(s *Scope) {
						for i := 0; i < 10; i++ {
							s.Spawn(func() error { return body(0, 1) })
						}
					})
				}()
			}
			wg.Wait()
			if int(peak.Load()) > workers {
				t.Fatalf("peak concurrency %d > workers %d", peak.Load(), workers)
			}
		})
	}
}

func TestIdleCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2 s")
	}
	rt := newRT(t, Config{Workers: 2})
	_ = rt.ParallelFor(bg, 0, 1000, 1, func(lo, hi int) error { return nil })
	time.Sleep(300 * time.Millisecond) // spin phases end; the adaptive monitor goes quiet
	var before, after unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &before)
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	_ = unix.Getrusage(unix.RUSAGE_SELF, &after)
	wall := time.Since(t0)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	frac := float64(cpu) / float64(wall)
	t.Logf("idle pool used %v CPU over %v (%.3f%% of a core)", cpu, wall, 100*frac)
	if frac >= 0.01 {
		t.Fatalf("idle CPU %.3f%% of a core, want < 1%%", 100*frac)
	}
}

func TestAdaptiveShrinksAndGrows(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyAdaptive})
	deadline := time.Now().Add(5 * time.Second)
	for rt.ActiveWorkers() > 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rt.ActiveWorkers() != 1 {
		t.Fatalf("idle adaptive pool kept %d active workers", rt.ActiveWorkers())
	}
	var grew atomic.Bool
	stop := time.Now().Add(5 * time.Second)
	for !grew.Load() && time.Now().Before(stop) {
		_ = rt.ParallelFor(bg, 0, 64, 1, func(lo, hi int) error {
			time.Sleep(time.Millisecond)
			if rt.ActiveWorkers() == 2 {
				grew.Store(true)
			}
			return nil
		})
	}
	if !grew.Load() {
		t.Fatal("adaptive pool never grew under load")
	}
}

func TestFutureAPI(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	f := Submit(rt, TaskOptions{Priority: PriorityHigh}, func(ctx context.Context) (string, error) { return "x", nil })
	<-f.Done()
	if !f.IsDone() {
		t.Fatal("IsDone false after Done")
	}
	got := make(chan string, 2)
	f.Then(func(s string, err error) { got <- s })
	if <-got != "x" {
		t.Fatal("Then on a finished future")
	}
	release := make(chan struct{})
	g := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(ctx context.Context) (int, error) { <-release; return 5, nil })
	var calls atomic.Int32
	g.Then(func(v int, err error) { calls.Add(1) })
	close(release)
	if v, err := g.Wait(bg); v != 5 || err != nil {
		t.Fatal(v, err)
	}
	for i := 0; calls.Load() == 0 && i < 1000; i++ {
		time.Sleep(time.Millisecond)
	}
	if calls.Load() != 1 {
		t.Fatalf("Then ran %d times", calls.Load())
	}
	// Deadline passed before start: ErrTimeout. Deadline in the future: visible in ctx.
	late := Submit(rt, TaskOptions{Priority: PriorityNormal, Deadline: time.Now().Add(-time.Second)}, func(ctx context.Context) (int, error) { return 1, nil })
	if _, err := late.Wait(bg); !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	dl := time.Now().Add(time.Hour)
	h := Submit(rt, TaskOptions{Priority: PriorityNormal, Deadline: dl}, func(ctx context.Context) (bool, error) {
		d, ok := ctx.Deadline()
		return ok && d.Equal(dl), nil
	})
	if ok, _ := h.Wait(bg); !ok {
		t.Fatal("task ctx lacks the deadline")
	}
	if _, err := Submit[int](rt, TaskOptions{Priority: 9}, func(context.Context) (int, error) { return 0, nil }).Wait(bg); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	// Waiting on futures from inside tasks (all workers) must not deadlock: workers help.
	outer := make([]*Future[int], 8)
	for i := range outer {
		outer[i] = Submit(rt, TaskOptions{Priority: PriorityNormal}, func(ctx context.Context) (int, error) {
			inner := Submit(rt, TaskOptions{Priority: PriorityLow}, func(context.Context) (int, error) { return 2, nil })
			return inner.Wait(ctx)
		})
	}
	for _, f := range outer {
		if v, err := f.Wait(bg); v != 2 || err != nil {
			t.Fatal(v, err)
		}
	}
}

func TestMetricsFormats(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	for i := 0; i < 20; i++ {
		_, _ = Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (int, error) { return 0, nil }).Wait(bg)
	}
	_ = rt.ParallelFor(bg, 0, 10000, 1, func(lo, hi int) error { return nil })
	m := rt.Metrics()
	if m.LatencyCount == 0 || m.LatencyP50Ns <= 0 || m.LatencyP99Ns < m.LatencyP50Ns {
		t.Fatalf("latency histogram empty: %+v", m)
	}
	js, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tasks_executed", "tasks_stolen", "tasks_panicked", "steal_attempts", "workers",
		"worker_busy_ns", "worker_idle_ns", "latency_p50_ns", "latency_p90_ns", "latency_p99_ns"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, js)
		}
	}
	p := m.Prometheus()
	for _, k := range []string{"veda_tasks_executed_total ", "veda_tasks_stolen_total ", "veda_workers 2",
		"veda_task_latency_seconds{quantile=\"0.99\"}"} {
		if !strings.Contains(p, k) {
			t.Errorf("Prometheus text lacks %q", k)
		}
	}
}

func TestPinWorkers(t *testing.T) {
	rt, err := New(Config{Workers: 2, PinWorkers: true})
	if err != nil {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("pinning failed without ErrUnsupported: %v", err)
		}
		t.Skipf("pinning unavailable here: %v", err)
	}
	defer rt.Close()
	// Read each worker's affinity back from inside its own task: it must be exactly one CPU,
	// and the two workers must be on different CPUs when the process may use two or more.
	cpus := make([][]int, rt.Workers())
	var mu sync.Mutex
	seen := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !slices.ContainsFunc(cpus, func(c []int) bool { return c == nil })
	}
	for deadline := time.Now().Add(10 * time.Second); !seen() && time.Now().Before(deadline); {
		if err := rt.ParallelFor(bg, 0, 1000, 1, func(lo, hi int) error {
			w := rt.current()
			set, err := threadAffinity()
			if err != nil {
				return err
			}
			mu.Lock()
			cpus[w.ID()] = set
			mu.Unlock()
			time.Sleep(100 * time.Microsecond) // let the other worker take chunks too
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	allowed, err := processCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for id, set := range cpus {
		if set == nil {
			t.Fatalf("worker %d ran no chunk", id)
		}
		if len(set) != 1 {
			t.Fatalf("worker %d: affinity %v, want one CPU", id, set)
		}
	}
	if len(allowed) >= 2 && cpus[0][0] == cpus[1][0] {
		t.Fatalf("both workers pinned to CPU %d (process may use %v)", cpus[0][0], allowed)
	}
}

func TestDefaultRuntime(t *testing.T) {
	a := Default()
	if a != Default() || a.Workers() < 1 {
		t.Fatal("Default not shared")
	}
}

func TestCloseFromTask(t *testing.T) {
	rt, _ := New(Config{Workers: 2})
	f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (error, error) { return rt.Close(), nil })
	if e, err := f.Wait(bg); e != nil || err != nil {
		t.Fatal(e, err)
	}
	if err := rt.Close(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
