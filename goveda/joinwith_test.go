package goveda

import (
	"errors"
	"sync/atomic"
	"testing"
)

type fibArg struct {
	rt  *Runtime
	n   int
	out *int64
}

func fibWith(a fibArg) error {
	if a.n < 10 {
		*a.out = int64(fibSeq(a.n))
		return nil
	}
	var x, y int64
	err := JoinWith(a.rt, fibWith, fibArg{a.rt, a.n - 1, &x}, fibArg{a.rt, a.n - 2, &y})
	*a.out = x + y
	return err
}

func TestJoinWith(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	for _, n := range []int{0, 9, 10, 20, 25} {
		var got int64
		if err := fibWith(fibArg{rt, n, &got}); err != nil || got != int64(fibSeq(n)) {
			t.Fatalf("fib(%d) = %d, %v; want %d", n, got, err, fibSeq(n))
		}
	}
	// Both run even when one fails; the first argument's error wins.
	var ran atomic.Int32
	e1, e2 := errors.New("a"), errors.New("b")
	f := func(e error) error { ran.Add(1); return e }
	if err := JoinWith(rt, f, e1, e2); err != e1 || ran.Load() != 2 {
		t.Fatalf("JoinWith = %v (ran %d), want a (ran 2)", err, ran.Load())
	}
	if err := JoinWith(rt, f, nil, e2); err != e2 {
		t.Fatalf("JoinWith = %v, want b", err)
	}
	// Panics become *PanicError.
	var pe *PanicError
	if err := JoinWith(rt, func(int) error { panic("boom") }, 1, 2); !errors.As(err, &pe) {
		t.Fatalf("JoinWith panic = %v, want *PanicError", err)
	}
	if err := JoinWith[int](rt, nil, 1, 2); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil f = %v", err)
	}
	rt.Close()
	if err := JoinWith(rt, f, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed = %v", err)
	}
}

func BenchmarkJoinWithFib25(b *testing.B) {
	rt, _ := New(Config{Workers: 2})
	defer rt.Close()
	for i := 0; i < b.N; i++ {
		var got int64
		_ = fibWith(fibArg{rt, 25, &got})
	}
}
