package goveda

import (
	"context"
	"errors"
	"testing"
)

// A nil *Runtime is bad input: every compute entry point returns an error wrapping
// ErrInvalidArgument (a Future fails with one) and runs nothing; none panics.
func TestNilRuntimeIsAnError(t *testing.T) {
	var rt *Runtime
	ctx := context.Background()
	s := []int{3, 1, 2}
	noop := func(lo, hi int) error { t.Error("body ran on a nil runtime"); return nil }
	cases := map[string]func() error{
		"ParallelFor": func() error { return rt.ParallelFor(ctx, 0, 10, 0, noop) },
		"ParallelForCtx": func() error {
			return rt.ParallelForCtx(ctx, 0, 10, 0, func(context.Context, int, int) error { return noop(0, 0) })
		},
		"Scope": func() error { return rt.Scope(ctx, func(*Scope) { t.Error("scope body ran") }) },
		"Join": func() error {
			_, _, err := Join(rt, func() (int, error) { return 0, noop(0, 0) }, func() (int, error) { return 0, nil })
			return err
		},
		"JoinCtx": func() error {
			_, _, err := JoinCtx(ctx, rt, func(context.Context) (int, error) { return 0, noop(0, 0) }, func(context.Context) (int, error) { return 0, nil })
			return err
		},
		"JoinWith": func() error { return JoinWith(rt, func(int) error { return noop(0, 0) }, 1, 2) },
		"Reduce": func() error {
			_, err := Reduce(ctx, rt, 0, 10, 0, 0, func(lo, hi, acc int) int { _ = noop(0, 0); return acc }, func(a, b int) int { return a + b })
			return err
		},
		"Map":      func() error { _, err := Map(ctx, rt, s, func(v int) int { return v }); return err },
		"ForEach":  func() error { return ForEach(ctx, rt, s, func(int, int) { _ = noop(0, 0) }) },
		"MapSlice": func() error { _, err := MapSlice(ctx, rt, s, func(v int) int { return v }); return err },
		"MapErr":   func() error { _, err := MapErr(ctx, rt, s, func(i, v int) (int, error) { return v, nil }); return err },
		"Filter":   func() error { _, err := Filter(ctx, rt, s, func(int) bool { return true }); return err },
		"MinMax":   func() error { _, _, err := MinMax(ctx, rt, s); return err },
		"Find":     func() error { _, err := Find(ctx, rt, s, func(int) bool { return true }); return err },
		"Count":    func() error { _, err := Count(ctx, rt, s, func(int) bool { return true }); return err },
		"Sort":     func() error { return Sort(ctx, rt, s) },
		"SortFunc": func() error { return SortFunc(ctx, rt, s, func(a, b int) int { return a - b }) },
		"Submit": func() error {
			_, err := SubmitContext(ctx, rt, TaskOptions{}, func(context.Context) (int, error) { return 0, noop(0, 0) }).Wait(ctx)
			return err
		},
		"NewPipeline": func() error { _, err := NewPipeline(rt, PipelineOptions[int]{}); return err },
		"NewGraph":    func() error { _, err := NewGraph(rt, GraphOptions[int]{}); return err },
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panicked on a nil runtime: %v", r)
					}
				}()
				err = call()
			}()
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
	if s[0] != 3 {
		t.Fatal("Sort changed the slice on a nil runtime")
	}
}
