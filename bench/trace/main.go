// Command trace measures what timeline tracing costs: the same workloads with tracing off and
// on, alternated run by run, medians of -reps, and the ratio on/off; plus the JSON size per
// event of the traces written.
//
//   - fib(32) with a Join at every call with n >= 10 (75,024 tasks), the scheduler's finest
//     grain;
//   - 4,000 tasks of 10 µs each (Scope spawns), the grain the 2% target is about;
//   - a ParallelFor of 2^22 indices in chunks of 4096 (chunk events with ranges).
//
// Run: go run ./bench/trace [-workers 2] [-reps 5]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

var (
	workers = flag.Int("workers", 2, "workers of the runtime")
	reps    = flag.Int("reps", 5, "measured runs per figure (median)")
)

func fib(rt *goveda.Runtime, n int) (int, error) {
	if n < 10 {
		a, b := 0, 1
		for i := 0; i < n; i++ {
			a, b = b, a+b
		}
		return a, nil
	}
	x, y, err := goveda.Join(rt, func() (int, error) { return fib(rt, n-1) }, func() (int, error) { return fib(rt, n-2) })
	return x + y, err
}

func spin(d time.Duration) {
	t := time.Now()
	for time.Since(t) < d {
	}
}

type workload struct {
	name string
	run  func(rt *goveda.Runtime) error
}

func main() {
	flag.Parse()
	rt, err := goveda.New(goveda.Config{Workers: *workers, Policy: goveda.PolicyFixed})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer rt.Close()
	ctx := context.Background()
	ws := []workload{
		{"fib(32), Join per call (75,024 tasks)", func(rt *goveda.Runtime) error {
			v, err := fib(rt, 32)
			if err == nil && v != 2178309 {
				err = fmt.Errorf("fib(32) = %d", v)
			}
			return err
		}},
		{"4,000 tasks of 10 us (Scope spawns)", func(rt *goveda.Runtime) error {
			return rt.Scope(ctx, func(s *goveda.Scope) {
				for i := 0; i < 4000; i++ {
					s.Spawn(func() error { spin(10 * time.Microsecond); return nil })
				}
			})
		}},
		{"ParallelFor 2^22, grain 4096", func(rt *goveda.Runtime) error {
			x := make([]float64, 1<<22)
			return rt.ParallelFor(ctx, 0, len(x), 4096, func(lo, hi int) error {
				for i := lo; i < hi; i++ {
					x[i] = float64(i) * 0.5
				}
				return nil
			})
		}},
	}
	fmt.Printf("tracing cost, %d workers, medians of %d alternated runs (trace writing not timed)\n\n", *workers, *reps)
	fmt.Printf("%-40s %12s %12s %9s %10s %10s\n", "workload", "off", "on", "on/off", "events", "B/event")
	status := 0
	for _, w := range ws {
		if err := w.run(rt); err != nil { // warm-up
			fmt.Fprintln(os.Stderr, w.name, err)
			os.Exit(1)
		}
		var off, on []time.Duration
		var events, size int
		for r := 0; r < *reps; r++ {
			// a collection before each timed run, so the previous trace's garbage is not
			// collected inside the next run
			runtime.GC()
			t := time.Now()
			if err := w.run(rt); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			off = append(off, time.Since(t))
			runtime.GC()
			var buf bytes.Buffer
			if err := rt.StartTrace(&buf, goveda.TraceOptions{MaxEvents: 4_000_000}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			t = time.Now()
			err := w.run(rt)
			on = append(on, time.Since(t))
			if serr := rt.StopTrace(); err == nil {
				err = serr
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			size = buf.Len()
			events = bytes.Count(buf.Bytes(), []byte(`{"ph":`))
		}
		slices.Sort(off)
		slices.Sort(on)
		mo, mn := off[len(off)/2], on[len(on)/2]
		per := 0.0
		if events > 0 {
			per = float64(size) / float64(events)
		}
		fmt.Printf("%-40s %12s %12s %8.3fx %10d %10.1f\n", w.name, mo.Round(time.Microsecond), mn.Round(time.Microsecond),
			float64(mn)/float64(mo), events, per)
	}
	os.Exit(status)
}
