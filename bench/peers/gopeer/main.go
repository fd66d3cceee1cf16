// Command gopeer runs the Go side of bench/peers: fib(32) with goveda.Join (closures) and
// goveda.JoinWith, the one-chunk ParallelFor latency from an outside goroutine, and the sort of
// 1e7 int64 with goveda.Sort vs slices.Sort, all on one runtime in one process. Output lines as
// bench/peers/workloads.h: RESULT <workload> <impl> <seconds> <checksum>.
//
//	go run ./bench/peers/gopeer -threads 2 -reps 1
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

const (
	fibN      = 32
	fibCutoff = 10
	latCalls  = 200
	latIdle   = 2 * time.Millisecond
	sortN     = 10_000_000
)

func fibSeq(n int) int64 {
	if n < 2 {
		return int64(n)
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

func fibJoin(rt *goveda.Runtime, n int) int64 {
	if n < fibCutoff {
		return fibSeq(n)
	}
	x, y, _ := goveda.Join(rt,
		func() (int64, error) { return fibJoin(rt, n-1), nil },
		func() (int64, error) { return fibJoin(rt, n-2), nil })
	return x + y
}

type fibArg struct {
	rt  *goveda.Runtime
	n   int
	out *int64
}

func fibWith(a fibArg) error {
	if a.n < fibCutoff {
		*a.out = fibSeq(a.n)
		return nil
	}
	var x, y int64
	err := goveda.JoinWith(a.rt, fibWith, fibArg{a.rt, a.n - 1, &x}, fibArg{a.rt, a.n - 2, &y})
	*a.out = x + y
	return err
}

// suffix is "_pgo" in a binary built with profile-guided optimization (run.sh builds both), so
// that the table shows the two builds apart.
var suffix = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-pgo" && s.Value != "" {
				return "_pgo"
			}
		}
	}
	return ""
}()

func result(w, impl string, d time.Duration, check float64) {
	fmt.Printf("RESULT %s %s%s %.9f %v\n", w, impl, suffix, d.Seconds(), check)
}

func main() {
	threads := flag.Int("threads", 2, "workers")
	reps := flag.Int("reps", 1, "timed repetitions (after one warm-up)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here (run.sh builds the PGO binary from it)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	rt, err := goveda.New(goveda.Config{Workers: *threads, DisableGPU: true})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close()
	ctx := context.Background()
	src := make([]int64, sortN)
	x := uint64(0x9E3779B97F4A7C15) // the Rayon peer's xorshift sequence
	for i := range src {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		src[i] = int64(x)
	}
	s := make([]int64, sortN)
	for r := -1; r < *reps; r++ {
		report := r >= 0
		t0 := time.Now()
		var f int64
		_ = rt.Scope(ctx, func(sc *goveda.Scope) { sc.Spawn(func() error { f = fibJoin(rt, fibN); return nil }) })
		if d := time.Since(t0); report {
			result("fib32", "go_join", d, float64(f))
		}
		t0 = time.Now()
		_ = rt.Scope(ctx, func(sc *goveda.Scope) { sc.Spawn(func() error { return fibWith(fibArg{rt, fibN, &f}) }) })
		if d := time.Since(t0); report {
			result("fib32", "go_joinwith", d, float64(f))
		}
		// The same fib(32) on this goroutine alone, no tasks: table.py subtracts it to get the
		// cost per task apart from the compiler's code for the leaves.
		t0 = time.Now()
		f = fibSeq(fibN)
		if d := time.Since(t0); report {
			result("fib32", "seq_go_1thread", d, float64(f))
		}

		lat := make([]float64, latCalls)
		for i := range lat {
			time.Sleep(latIdle)
			u0 := time.Now()
			_ = rt.ParallelFor(ctx, 0, 1, 1, func(lo, hi int) error { return nil })
			lat[i] = time.Since(u0).Seconds()
		}
		slices.Sort(lat)
		if report {
			fmt.Printf("RESULT one_chunk_latency go%s %.9f 0\n", suffix, lat[latCalls/2])
		}

		copy(s, src)
		t0 = time.Now()
		if err := goveda.Sort(ctx, rt, s); err != nil {
			log.Fatal(err)
		}
		if d := time.Since(t0); report {
			result("sort_1e7_int64", "veda_sort", d, float64(s[sortN/2]))
		}
		copy(s, src)
		t0 = time.Now()
		slices.Sort(s)
		if d := time.Since(t0); report {
			result("sort_1e7_int64", "slices_sort", d, float64(s[sortN/2]))
		}
	}
}
