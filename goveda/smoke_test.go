package goveda

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	rt, err := New(Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	n := 100000
	seen := make([]int32, n)
	if err := rt.ParallelFor(context.Background(), 0, n, 0, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			seen[i]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, v := range seen {
		if v != 1 {
			t.Fatalf("index %d seen %d", i, v)
		}
	}
	s, err := Reduce(context.Background(), rt, 0, n, 0, 0, func(lo, hi, acc int) int {
		for i := lo; i < hi; i++ {
			acc += i
		}
		return acc
	}, func(a, b int) int { return a + b })
	if err != nil || s != n*(n-1)/2 {
		t.Fatal(s, err)
	}
	var fib func(n int) int
	fib = func(n int) int {
		if n < 10 {
			if n < 2 {
				return n
			}
			return fib(n-1) + fib(n-2)
		}
		a, b, _ := Join(rt, func() (int, error) { return fib(n - 1), nil }, func() (int, error) { return fib(n - 2), nil })
		return a + b
	}
	if fib(25) != 75025 {
		t.Fatal("fib")
	}
	f := Submit(rt, TaskOptions{Priority: PriorityNormal}, func(ctx context.Context) (int, error) { return 42, nil })
	v, err := f.Wait(context.Background())
	if v != 42 || err != nil {
		t.Fatal(v, err)
	}
	err = rt.Scope(context.Background(), func(s *Scope) {
		for i := 0; i < 100; i++ {
			s.Spawn(func() error { return nil })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rt.Metrics())
}
