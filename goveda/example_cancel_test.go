package goveda_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/veda-runtime/veda/goveda"
)

func ExampleFuture_Cancel() {
	rt, _ := goveda.New(goveda.Config{Workers: 1})
	defer rt.Close()
	gate := make(chan struct{})
	busy := goveda.Submit(rt, goveda.TaskOptions{Priority: goveda.PriorityNormal}, func(context.Context) (int, error) {
		<-gate // keeps the only worker busy
		return 1, nil
	})
	queued := goveda.Submit(rt, goveda.TaskOptions{Priority: goveda.PriorityNormal}, func(context.Context) (int, error) {
		return 2, nil
	})
	fmt.Println(queued.Cancel()) // not started: it never will
	_, err := queued.Wait(context.Background())
	fmt.Println(errors.Is(err, goveda.ErrCancelled))
	close(gate)
	v, _ := busy.Wait(context.Background())
	fmt.Println(v, busy.Cancel()) // finished: Cancel is a no-op
	// Output:
	// true
	// true
	// 1 false
}

func ExampleRuntime_ParallelForCtx() {
	rt, _ := goveda.New(goveda.Config{Workers: 2}) // a runtime of its own: the example must not share a pool other code may close
	defer rt.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := rt.ParallelForCtx(ctx, 0, 1_000_000, 0, func(ctx context.Context, lo, hi int) error {
		for i := lo; i < hi; i++ {
			if ctx.Err() != nil {
				return ctx.Err() // stop inside a long chunk
			}
			time.Sleep(time.Microsecond)
		}
		return nil
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded)) // the body's error or the loop's, both say so
	// Output: true
}

func ExampleJoinCtx() {
	rt := goveda.Default()
	a, b, err := goveda.JoinCtx(context.Background(), rt,
		func(ctx context.Context) (string, error) { return "left", nil },
		func(ctx context.Context) (string, error) { return "right", nil })
	fmt.Println(a, b, err)
	// Output: left right <nil>
}
