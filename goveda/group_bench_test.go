package goveda

import (
	"context"
	"testing"
)

// fibGroup is fib with one Group per call for n >= 10, as C's fib_group in bench/peers: a new
// group, two spawns, a Wait and a Close per call (the cost of a group against a Join).
func fibGroup(rt *Runtime, n int) int {
	if n < 10 {
		return fibSeq(n)
	}
	var a, b int
	g := rt.NewGroup()
	_ = g.Spawn(func() error { a = fibGroup(rt, n-1); return nil })
	_ = g.Spawn(func() error { b = fibGroup(rt, n-2); return nil })
	_ = g.Wait()
	_ = g.Close()
	return a + b
}

// BenchmarkGroupFib reports ns per group (create, two spawns, wait, close) for fib(32) with a
// group per call (75,024 groups), next to fib(32) with a Join per call in the same run.
func BenchmarkGroupFib(b *testing.B) {
	tasks := float64(fibTasks(benchFibN))
	for _, c := range []struct {
		name string
		fib  func(*Runtime, int) int
	}{{"group", fibGroup}, {"join", fibJoin}} {
		b.Run(c.name, func(b *testing.B) {
			rt, _ := New(Config{Policy: PolicyFixed})
			defer rt.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var r int
				_ = rt.Scope(context.Background(), func(s *Scope) {
					s.Spawn(func() error { r = c.fib(rt, benchFibN); return nil })
				})
				if r != 2178309 {
					b.Fatal(r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/tasks, "ns/call")
		})
	}
}
