package goveda

import (
	"context"
	"io"
	"testing"
	"time"
)

// BenchmarkTraceTasks10us: 4,000 Scope children of 10 µs each, with tracing off and on
// (go test -run XXX -bench TraceTasks10us ./goveda/).
func BenchmarkTraceTasks10us(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			rt, err := New(Config{Workers: 2, Policy: PolicyFixed})
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close()
			if on {
				if err := rt.StartTrace(io.Discard, TraceOptions{MaxEvents: 1 << 22}); err != nil {
					b.Fatal(err)
				}
				defer rt.StopTrace()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = rt.Scope(context.Background(), func(s *Scope) {
					for k := 0; k < 4000; k++ {
						s.Spawn(func() error {
							t := time.Now()
							for time.Since(t) < 10*time.Microsecond {
							}
							return nil
						})
					}
				})
			}
		})
	}
}

func traceFib(rt *Runtime, n int) int {
	if n < 10 {
		a, b := 0, 1
		for i := 0; i < n; i++ {
			a, b = b, a+b
		}
		return a
	}
	x, y, _ := Join(rt, func() (int, error) { return traceFib(rt, n-1), nil }, func() (int, error) { return traceFib(rt, n-2), nil })
	return x + y
}

// BenchmarkTraceFib: fib(32) with a Join per call (n >= 10), tracing off and on.
func BenchmarkTraceFib(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			rt, err := New(Config{Workers: 2, Policy: PolicyFixed})
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close()
			if on {
				if err := rt.StartTrace(io.Discard, TraceOptions{}); err != nil {
					b.Fatal(err)
				}
				defer rt.StopTrace()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, _, _ = Join(rt, func() (int, error) { return traceFib(rt, 32), nil }, func() (int, error) { return 0, nil })
			}
		})
	}
}
