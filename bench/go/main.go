// Command go is VEDA's Go benchmark: the scheduler and the built-in kernels against plain Go
// measured in the same run. Every figure is the median of -reps runs after one warm-up.
//
//   - sum of sqrt(i) over [0, 2e8): goveda.Reduce vs a plain loop vs plain goroutines (static
//     split), with -workers workers and with 1 worker (overhead);
//   - fib(32) with a Join at every call with n >= 10 vs goroutines + WaitGroup at the same
//     calls; ns per task;
//   - an irregular loop (cost grows with i): ParallelFor vs a static split into equal ranges;
//   - SumF64 of 1e8 float64 (deterministic, compensated) vs a plain loop.
//
// Run: go run ./bench/go [-workers 2] [-reps 5] [-quick]
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

var (
	workers = flag.Int("workers", 2, "workers of the runtime and goroutines of the peers")
	reps    = flag.Int("reps", 5, "measured runs per figure (median)")
	quick   = flag.Bool("quick", false, "smaller sizes (sum 5e7 instead of 2e8, kernels 5e7 instead of 1e8)")
)

var sink float64

// median runs f once to warm up, then reps times, and returns the median duration.
func median(f func()) time.Duration {
	f()
	ts := make([]time.Duration, *reps)
	for i := range ts {
		t := time.Now()
		f()
		ts[i] = time.Since(t)
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func sqrtRange(lo, hi int, acc float64) float64 {
	for i := lo; i < hi; i++ {
		acc += math.Sqrt(float64(i))
	}
	return acc
}

func goroutineSplit(n, parts int, body func(lo, hi int) float64) float64 {
	res := make([]float64, parts)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[p] = body(n*p/parts, n*(p+1)/parts)
		}()
	}
	wg.Wait()
	s := 0.0
	for _, r := range res {
		s += r
	}
	return s
}

func newRT(w int) *goveda.Runtime {
	rt, err := goveda.New(goveda.Config{Workers: w})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return rt
}

func benchSqrt(ctx context.Context, rt, rt1 *goveda.Runtime) {
	n := 200_000_000
	if *quick {
		n = 50_000_000
	}
	plain := median(func() { sink = sqrtRange(0, n, 0) })
	gor := median(func() { sink = goroutineSplit(n, *workers, func(lo, hi int) float64 { return sqrtRange(lo, hi, 0) }) })
	red := func(r *goveda.Runtime) func() {
		return func() {
			s, err := goveda.Reduce(ctx, r, 0, n, 0, 0.0, sqrtRange, func(a, b float64) float64 { return a + b })
			if err != nil {
				panic(err)
			}
			sink = s
		}
	}
	v := median(red(rt))
	v1 := median(red(rt1))
	fmt.Printf("sqrt-sum n=%.0e  plain %s  goroutines-%d %s  Reduce-%dw %s  Reduce-1w %s  | Reduce speedup over plain %.2fx (goroutines %.2fx); 1-worker overhead %+.1f%%\n",
		float64(n), ms(plain), *workers, ms(gor), rt.Workers(), ms(v), ms(v1),
		float64(plain)/float64(v), float64(plain)/float64(gor), 100*(float64(v1)/float64(plain)-1))
}

const fibCut = 10

func fibSeq(n int) int {
	if n < 2 {
		return n
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

func fibJoin(rt *goveda.Runtime, n int) int {
	if n < fibCut {
		return fibSeq(n)
	}
	a, b, _ := goveda.Join(rt, func() (int, error) { return fibJoin(rt, n-1), nil }, func() (int, error) { return fibJoin(rt, n-2), nil })
	return a + b
}

func fibGo(n int) int {
	if n < fibCut {
		return fibSeq(n)
	}
	var a, b int
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = fibGo(n - 1) }()
	go func() { defer wg.Done(); b = fibGo(n - 2) }()
	wg.Wait()
	return a + b
}

// fibTasks counts the Join calls (2 tasks each) of fibJoin(n).
func fibTasks(n int) int {
	if n < fibCut {
		return 0
	}
	return 2 + fibTasks(n-1) + fibTasks(n-2)
}

func benchFib(rt *goveda.Runtime) {
	const n = 32
	tasks := fibTasks(n)
	seq := median(func() { sink = float64(fibSeq(n)) })
	j := median(func() { sink = float64(fibJoin(rt, n)) })
	g := median(func() { sink = float64(fibGo(n)) })
	fmt.Printf("fib(%d) cutoff %d, %d tasks  sequential %s  Join-%dw %s (%.0f ns/task)  goroutines+WaitGroup %s (%.0f ns/task)  | Join %.1fx faster than goroutines, %.2fx over sequential\n",
		n, fibCut, tasks, ms(seq), rt.Workers(), ms(j), float64(j)/float64(tasks), ms(g), float64(g)/float64(tasks),
		float64(g)/float64(j), float64(seq)/float64(j))
}

// irregular: the cost of index i grows linearly with i.
func irregular(lo, hi int) float64 {
	s := 0.0
	for i := lo; i < hi; i++ {
		for j := 0; j < i/64; j++ {
			s += math.Sqrt(float64(j))
		}
	}
	return s
}

func benchIrregular(ctx context.Context, rt *goveda.Runtime) {
	n := 40_000
	if *quick {
		n = 25_000
	}
	seq := median(func() { sink = irregular(0, n) })
	static := median(func() { sink = goroutineSplit(n, *workers, irregular) })
	pf := median(func() {
		var mu sync.Mutex
		total := 0.0
		if err := rt.ParallelFor(ctx, 0, n, 0, func(lo, hi int) error {
			s := irregular(lo, hi)
			mu.Lock()
			total += s
			mu.Unlock()
			return nil
		}); err != nil {
			panic(err)
		}
		sink = total
	})
	fmt.Printf("irregular n=%d  sequential %s  static-split-%d %s  ParallelFor-%dw %s  | ParallelFor %.2fx faster than static split, %.2fx over sequential\n",
		n, ms(seq), *workers, ms(static), rt.Workers(), ms(pf), float64(static)/float64(pf), float64(seq)/float64(pf))
}

func benchSumF64(ctx context.Context, rt *goveda.Runtime) {
	n := 100_000_000
	if *quick {
		n = 50_000_000
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = 1 / float64(i+1)
	}
	plain := median(func() {
		s := 0.0
		for _, v := range x {
			s += v
		}
		sink = s
	})
	v := median(func() {
		s, err := rt.SumF64(ctx, x)
		if err != nil {
			panic(err)
		}
		sink = s
	})
	fmt.Printf("SumF64 n=%.0e  plain loop %s (%.1f GB/s)  SumF64-%dw %s (%.1f GB/s)  | %.2fx over the plain loop\n",
		float64(n), ms(plain), float64(n*8)/float64(plain), rt.Workers(), ms(v), float64(n*8)/float64(v), float64(plain)/float64(v))
}

func main() {
	flag.Parse()
	ctx := context.Background()
	rt, rt1 := newRT(*workers), newRT(1)
	defer rt.Close()
	defer rt1.Close()
	fmt.Printf("# GOMAXPROCS %d, NumCPU %d, %d workers; median of %d runs\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), rt.Workers(), *reps)
	benchSqrt(ctx, rt, rt1)
	benchFib(rt)
	benchIrregular(ctx, rt)
	benchSumF64(ctx, rt)
}
