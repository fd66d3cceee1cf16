package goveda_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

func ExampleNew() {
	rt, err := goveda.New(goveda.Config{Workers: 2, Policy: goveda.PolicyFixed})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	fmt.Println(rt.Workers(), rt.ActiveWorkers(), rt.Policy())
	_, err = goveda.New(goveda.Config{Workers: -1})
	fmt.Println(errors.Is(err, goveda.ErrInvalidArgument))
	// Output:
	// 2 2 fixed
	// true
}

func ExampleDefault() {
	rt := goveda.Default()
	fmt.Println(rt == goveda.Default(), rt.Workers() >= 1)
	// Output: true true
}

func ExampleRuntime_Close() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	fmt.Println(rt.Close())
	fmt.Println(rt.Close())
	err := rt.ParallelFor(context.Background(), 0, 10, 0, func(lo, hi int) error { return nil })
	fmt.Println(errors.Is(err, goveda.ErrClosed))
	// Output:
	// <nil>
	// veda: runtime closed
	// true
}

func ExampleRuntime_ParallelFor() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	squares := make([]int, 10)
	err := rt.ParallelFor(context.Background(), 0, len(squares), 2, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			squares[i] = i * i
		}
		return nil
	})
	fmt.Println(squares, err)
	// Output: [0 1 4 9 16 25 36 49 64 81] <nil>
}

func ExampleReduce() {
	rt, _ := goveda.New(goveda.Config{Workers: 2, Policy: goveda.PolicyDeterministic, Seed: 1})
	defer rt.Close()
	sum, err := goveda.Reduce(context.Background(), rt, 1, 101, 0, 0,
		func(lo, hi, acc int) int {
			for i := lo; i < hi; i++ {
				acc += i
			}
			return acc
		},
		func(a, b int) int { return a + b })
	fmt.Println(sum, err)
	// Output: 5050 <nil>
}

func ExampleMap() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	out, err := goveda.Map(context.Background(), rt, []string{"a", "b", "c"}, strings.ToUpper)
	fmt.Println(out, err)
	// Output: [A B C] <nil>
}

func ExampleRuntime_Scope() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	var n atomic.Int64
	err := rt.Scope(context.Background(), func(s *goveda.Scope) {
		for i := 1; i <= 4; i++ {
			s.Spawn(func() error { n.Add(int64(i)); return nil })
		}
	})
	fmt.Println(n.Load(), err)
	err = rt.Scope(context.Background(), func(s *goveda.Scope) {
		s.Spawn(func() error { return errors.New("child failed") })
	})
	fmt.Println(err)
	// Output:
	// 10 <nil>
	// child failed
}

func ExampleScope_Spawn() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	var leaves atomic.Int64
	var tree func(s *goveda.Scope, depth int)
	tree = func(s *goveda.Scope, depth int) {
		if depth == 0 {
			leaves.Add(1)
			return
		}
		s.Spawn(func() error { tree(s, depth-1); return nil })
		s.Spawn(func() error { tree(s, depth-1); return nil })
	}
	_ = rt.Scope(context.Background(), func(s *goveda.Scope) { tree(s, 5) })
	fmt.Println(leaves.Load())
	// Output: 32
}

func ExampleScope_SpawnPriority() {
	rt, _ := goveda.New(goveda.Config{Workers: 1})
	defer rt.Close()
	err := rt.Scope(context.Background(), func(s *goveda.Scope) {
		s.SpawnPriority(goveda.PriorityBackground, func() error { return nil })
	})
	fmt.Println(err)
	// Output: <nil>
}

func ExampleJoin() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	var fib func(n int) int
	fib = func(n int) int {
		if n < 2 {
			return n
		}
		a, b, _ := goveda.Join(rt,
			func() (int, error) { return fib(n - 1), nil },
			func() (int, error) { return fib(n - 2), nil })
		return a + b
	}
	fmt.Println(fib(20))
	// Output: 6765
}

func ExampleSubmit() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	f := goveda.Submit(rt, goveda.TaskOptions{Priority: goveda.PriorityHigh, Deadline: time.Now().Add(time.Minute)},
		func(ctx context.Context) (string, error) { return "done", nil })
	v, err := f.Wait(context.Background())
	fmt.Println(v, err)
	// Output: done <nil>
}

func ExampleFuture_Then() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	f := goveda.Submit(rt, goveda.TaskOptions{Priority: goveda.PriorityNormal},
		func(context.Context) (int, error) { return 7, nil })
	got := make(chan int, 1)
	f.Then(func(v int, err error) { got <- v * 6 })
	<-f.Done()
	fmt.Println(<-got, f.IsDone())
	// Output: 42 true
}

func ExampleRuntime_Metrics() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	_, _ = goveda.Submit(rt, goveda.TaskOptions{Priority: goveda.PriorityNormal},
		func(context.Context) (int, error) { return 0, nil }).Wait(context.Background())
	m := rt.Metrics()
	js, _ := m.JSON()
	fmt.Println(m.Workers, strings.Contains(string(js), `"tasks_executed":`),
		strings.Contains(m.Prometheus(), "veda_tasks_executed_total"))
	// Output: 2 true true
}

func ExamplePanicError() {
	rt, _ := goveda.New(goveda.Config{Workers: 2})
	defer rt.Close()
	err := rt.ParallelFor(context.Background(), 0, 4, 1, func(lo, hi int) error { panic("oops") })
	var pe *goveda.PanicError
	fmt.Println(errors.As(err, &pe), pe.Value, errors.Is(err, goveda.ErrTaskFailed))
	// Output: true oops true
}
