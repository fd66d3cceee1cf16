package goveda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A cancellable ParallelFor runs its leaves in pieces: every index still runs exactly once, no
// piece is shorter than grain (but the last of a leaf), and a cancellation stops a loop of a few
// huge leaves within about one piece instead of one leaf.
func TestParallelForPiecesCoverExactlyOnce(t *testing.T) {
	for _, c := range testConfigs {
		t.Run(c.name, func(t *testing.T) {
			rt := newRT(t, c.cfg)
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			for _, grain := range []int{0, 1, 7, 1000} {
				const n = 200_000
				seen := make([]int32, n)
				var short atomic.Int32
				err := rt.ParallelFor(ctx, 0, n, grain, func(lo, hi int) error {
					if grain > 0 && hi-lo < grain && hi != n {
						short.Add(1) // may be the tail of a leaf; counted below
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&seen[i], 1)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range seen {
					if v != 1 {
						t.Fatalf("grain %d: index %d ran %d times", grain, i, v)
					}
				}
				// Only leaf tails may be short: at most one per leaf, and leaves are few (one
				// per steal: up to about 200 with 4 workers on 2 cores under -race).
				if s := short.Load(); s > int32(256*rt.Workers()) {
					t.Fatalf("grain %d: %d pieces shorter than grain", grain, s)
				}
			}
		})
	}
}

func TestParallelForCancelStopsWithinAPiece(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	var done atomic.Int64
	t0 := time.Now()
	// 2e6 indices of about 1 us each: 1 s of work per worker, in about four lazy leaves.
	err := rt.ParallelFor(ctx, 0, 2_000_000, 1, func(lo, hi int) error {
		deadline := time.Now().Add(time.Duration(hi-lo) * time.Microsecond)
		for time.Now().Before(deadline) {
		}
		done.Add(int64(hi - lo))
		return nil
	})
	took := time.Since(t0)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took > 30*time.Millisecond+10*leafSlice+50*time.Millisecond {
		t.Fatalf("cancelled loop returned after %v (ran %d of 2e6 indices)", took, done.Load())
	}
	if done.Load() >= 2_000_000 {
		t.Fatal("the whole loop ran")
	}
}

// Without a cancellable context a leaf is one body call (the pieces cost nothing then); with
// one, the same loop is cut into more, growing pieces.
func TestParallelForLeafIsOneCallWithoutContext(t *testing.T) {
	rt := newRT(t, Config{Workers: 1})
	count := func(ctx context.Context) int32 {
		var calls atomic.Int32
		if err := rt.ParallelFor(ctx, 0, 1<<20, 0, func(lo, hi int) error { calls.Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		return calls.Load()
	}
	plain := count(bg)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	pieces := count(ctx)
	if plain > 4 || pieces <= plain {
		t.Fatalf("body calls: %d without a context (want <= 4), %d with one (want more)", plain, pieces)
	}
}

// Stress for shared leaves (sched's Shared): on runtimes whose leaves run in pieces that idle
// workers join (CgoBodies), loops of random size and grain with uneven bodies, some with a
// nested loop inside a body, some failing part-way, cover every index exactly once (or, after a
// failure, at most once and return the body's error), on 1-4 workers. Run under -race.
func TestSharedLeavesStress(t *testing.T) {
	errStop := errors.New("stop")
	for workers := 1; workers <= 4; workers++ {
		rt := newRT(t, Config{Workers: workers, Policy: PolicyFixed, CgoBodies: true})
		rng := uint64(workers) * 0x9E3779B97F4A7C15
		rand := func(n int) int {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			return int(rng % uint64(n))
		}
		for round := 0; round < 40; round++ {
			n, grain := 1+rand(3000), rand(9)
			fail := -1
			if round%5 == 4 {
				fail = rand(n)
			}
			nested := round%3 == 1
			seen := make([]atomic.Int32, n)
			inner := make([]atomic.Int32, n*4)
			err := rt.ParallelFor(bg, 0, n, grain, func(lo, hi int) error {
				for i := lo; i < hi; i++ {
					if i == fail {
						return errStop
					}
					seen[i].Add(1)
					if i%97 == 0 {
						time.Sleep(50 * time.Microsecond) // uneven: leaves get joined
					}
					if nested && i%31 == 0 {
						base := i * 4
						if err := rt.ParallelFor(bg, base, base+4, 1, func(a, b int) error {
							for j := a; j < b; j++ {
								inner[j].Add(1)
							}
							return nil
						}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if fail >= 0 {
				if !errors.Is(err, errStop) {
					t.Fatalf("workers %d round %d: err = %v, want the body's error", workers, round, err)
				}
			} else if err != nil {
				t.Fatalf("workers %d round %d: %v", workers, round, err)
			}
			for i := range seen {
				c := seen[i].Load()
				if c > 1 || (fail < 0 && c != 1) {
					t.Fatalf("workers %d round %d (n %d grain %d): index %d ran %d times", workers, round, n, grain, i, c)
				}
				if nested && fail < 0 && i%31 == 0 {
					for j := i * 4; j < i*4+4; j++ {
						if inner[j].Load() != 1 {
							t.Fatalf("workers %d round %d: nested index %d ran %d times", workers, round, j, inner[j].Load())
						}
					}
				}
			}
		}
	}
}

// While the last piece of a shared leaf runs, the other workers park: a drained leaf is not
// joined again (without Drain each empty join counted as work and the idle workers spun for the
// whole piece: about 1 s of CPU over a 500 ms piece on 3 workers). CPU time, not wall time.
func TestIdleWorkersParkWhileTheLastPieceRuns(t *testing.T) {
	rt := newRT(t, Config{Workers: 3, Policy: PolicyFixed, CgoBodies: true})
	var before, after unix.Rusage
	err := rt.ParallelFor(bg, 0, 8, 1, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			if i == 7 {
				time.Sleep(20 * time.Millisecond) // the other indices finish, their workers go idle
				_ = unix.Getrusage(unix.RUSAGE_SELF, &before)
				time.Sleep(300 * time.Millisecond)
				_ = unix.Getrusage(unix.RUSAGE_SELF, &after)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	if cpu > 100*time.Millisecond {
		t.Fatalf("the process used %v of CPU while one worker slept 300 ms in the last piece: idle workers did not park", cpu)
	}
}

// Claims near the ends of int's range and huge grains neither overflow nor leave the range: from
// a worker (shared leaves) and from outside, every index runs exactly once and every chunk is a
// valid [lo, hi) inside the loop.
func TestSharedLeafClaimsDoNotOverflow(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyFixed, CgoBodies: true})
	cases := []struct{ begin, end, grain int }{
		{math.MaxInt - 10, math.MaxInt, 3},
		{math.MaxInt - 1000, math.MaxInt, 1},
		{0, 100, math.MaxInt},
		{math.MinInt, math.MinInt + 50, math.MaxInt / 2},
	}
	check := func(where string, begin, end, grain int) {
		var mu sync.Mutex
		seen := map[int]int{}
		calls := 0
		err := rt.ParallelFor(bg, begin, end, grain, func(lo, hi int) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if lo < begin || hi > end || lo >= hi || calls > 10000 {
				return fmt.Errorf("chunk [%d, %d) outside [%d, %d) or call %d", lo, hi, begin, end, calls)
			}
			for i := lo; i < hi; i++ {
				seen[i]++
				if i == math.MaxInt {
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s [%d, %d) grain %d: %v", where, begin, end, grain, err)
		}
		if len(seen) != end-begin {
			t.Fatalf("%s [%d, %d) grain %d: %d of %d indices ran", where, begin, end, grain, len(seen), end-begin)
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("%s: index %d ran %d times", where, i, c)
			}
		}
	}
	for _, c := range cases {
		check("outside", c.begin, c.end, c.grain)
		if err := rt.ParallelFor(bg, 0, 1, 1, func(int, int) error {
			check("on a worker", c.begin, c.end, c.grain)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// The cost estimate keeps sub-nanosecond costs per index: a piece of 2^20 indices in 300 us is
// 286 ps each, not 0 (nanoseconds truncated it to 0, and then the leafSlice bound never applied
// and a cheap body's pieces grew to a quarter of what was left). The next piece is then about
// leafSlice's worth (200 us / 286 ps = 699,300), not twice the last one.
func TestPieceCostBelowOneNanosecond(t *testing.T) {
	per := perIndex(0, 300*time.Microsecond, 1<<20)
	if per != 286 {
		t.Fatalf("perIndex = %d ps, want 286", per)
	}
	if n := nextPiece(1<<20, 1, 1<<40, per); n != 699300 {
		t.Fatalf("nextPiece = %d, want 699300 (leafSlice at 286 ps per index)", n)
	}
	// A decaying estimate still bounds the piece, and a zero one (nothing measured) only doubles.
	if n := nextPiece(1000, 1, 1<<40, 0); n != 2000 {
		t.Fatalf("nextPiece with no estimate = %d, want 2000", n)
	}
	if got := perIndex(1000, 0, 10); got != 750 {
		t.Fatalf("perIndex after a free piece = %d, want 3/4 of 1000", got)
	}
}
