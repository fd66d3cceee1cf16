package goveda

import (
	"context"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fibSeq is the sequential leaf of the fork-join benchmarks.
func fibSeq(n int) int {
	if n < 2 {
		return n
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

// fibJoin joins at every call with n >= 10 (one spawned task per Join).
func fibJoin(rt *Runtime, n int) int {
	if n < 10 {
		return fibSeq(n)
	}
	a, b, _ := Join(rt,
		func() (int, error) { return fibJoin(rt, n-1), nil },
		func() (int, error) { return fibJoin(rt, n-2), nil })
	return a + b
}

func fibGo(n int) int {
	if n < 10 {
		return fibSeq(n)
	}
	var wg sync.WaitGroup
	var a, b int
	wg.Add(2)
	go func() { a = fibGo(n - 1); wg.Done() }()
	go func() { b = fibGo(n - 2); wg.Done() }()
	wg.Wait()
	return a + b
}

// fibTasks is the number of Joins (one spawned task each) fibJoin(n) performs.
func fibTasks(n int) int {
	if n < 10 {
		return 0
	}
	return 1 + fibTasks(n-1) + fibTasks(n-2)
}

const benchFibN = 32

// BenchmarkFib32 reports ns per task for fib(32) joined at every n >= 10, on the pool (Join) and
// on plain goroutines + WaitGroup, in the same run. Pool start-up is outside the timer.
func BenchmarkFib32(b *testing.B) {
	tasks := float64(fibTasks(benchFibN))
	b.Run("veda-join", func(b *testing.B) {
		rt, _ := New(Config{Policy: PolicyFixed})
		defer rt.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var r int
			_ = rt.Scope(context.Background(), func(s *Scope) {
				s.Spawn(func() error { r = fibJoin(rt, benchFibN); return nil })
			})
			if r != 2178309 {
				b.Fatal(r)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/tasks, "ns/task")
	})
	b.Run("goroutines", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if fibGo(benchFibN) != 2178309 {
				b.Fatal()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/tasks, "ns/task")
	})
}

const sqrtN = 200_000_000

var benchSink float64

func sqrtSum(lo, hi int, acc float64) float64 {
	for i := lo; i < hi; i++ {
		acc += math.Sqrt(float64(i))
	}
	return acc
}

// BenchmarkSqrtSum: sum of sqrt(i) for i < 2e8, plain loop vs Reduce on 1 and 2 workers.
func BenchmarkSqrtSum(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		fold := sqrtSum // called through a func value, as Reduce does, so neither side is inlined
		for i := 0; i < b.N; i++ {
			benchSink = fold(0, sqrtN, 0)
		}
	})
	for _, w := range []int{1, 2} {
		b.Run("reduce-w"+string(rune('0'+w)), func(b *testing.B) {
			rt, _ := New(Config{Workers: w, Policy: PolicyFixed})
			defer rt.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, _ = Reduce(context.Background(), rt, 0, sqrtN, 0, 0.0, sqrtSum, func(a, b float64) float64 { return a + b })
			}
		})
	}
}

// irregular costs O(i) for index i: a static split leaves the first half's worker idle.
func irregularBody(lo, hi int, sink *atomic.Int64) {
	var s int64
	for i := lo; i < hi; i++ {
		for j := 0; j < i; j++ {
			s += int64(j ^ i)
		}
	}
	sink.Add(s)
}

const irregularN = 30000

// BenchmarkIrregular: a loop whose cost grows with i, ParallelFor vs a static two-way split.
func BenchmarkIrregular(b *testing.B) {
	var sink atomic.Int64
	b.Run("veda", func(b *testing.B) {
		rt, _ := New(Config{Workers: 2, Policy: PolicyFixed})
		defer rt.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_ = rt.ParallelFor(context.Background(), 0, irregularN, 0, func(lo, hi int) error {
				irregularBody(lo, hi, &sink)
				return nil
			})
		}
	})
	b.Run("sequential", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			irregularBody(0, irregularN, &sink)
		}
	})
	b.Run("static", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { irregularBody(0, irregularN/2, &sink); wg.Done() }()
			go func() { irregularBody(irregularN/2, irregularN, &sink); wg.Done() }()
			wg.Wait()
		}
	})
}

// BenchmarkWakeLatency: Submit to a parked pool until the task starts; reports p50 and p99.
func BenchmarkWakeLatency(b *testing.B) {
	rt, _ := New(Config{Workers: 2, Policy: PolicyFixed})
	defer rt.Close()
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		time.Sleep(2 * time.Millisecond) // let every worker park
		start := time.Now()
		f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(context.Context) (time.Duration, error) {
			return time.Since(start), nil
		})
		d, _ := f.Wait(context.Background())
		lat = append(lat, d)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkTelemetry: the fine-grained fib benchmark with telemetry on and off.
func BenchmarkTelemetry(b *testing.B) {
	for _, off := range []bool{false, true} {
		name := "on"
		if off {
			name = "off"
		}
		b.Run(name, func(b *testing.B) {
			rt, _ := New(Config{Policy: PolicyFixed, DisableTelemetry: off})
			defer rt.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = rt.Scope(context.Background(), func(s *Scope) {
					s.Spawn(func() error { fibJoin(rt, 28); return nil })
				})
			}
		})
	}
}

func BenchmarkFibSeq32(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = fibSeq(benchFibN)
	}
}

// BenchmarkFib32OneWorker runs fibJoin on a one-worker pool: compared with BenchmarkFibSeq32 it
// gives the scheduler's overhead per Join with no parallelism:
// (ns/op(OneWorker) - ns/op(FibSeq32)) / fibTasks(32).
func BenchmarkFib32OneWorker(b *testing.B) {
	rt, _ := New(Config{Workers: 1, Policy: PolicyFixed})
	defer rt.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = rt.Scope(context.Background(), func(s *Scope) {
			s.Spawn(func() error { fibJoin(rt, benchFibN); return nil })
		})
	}
	b.ReportMetric(float64(fibTasks(benchFibN)), "tasks/op")
}
