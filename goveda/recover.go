package goveda

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/veda-runtime/veda/goveda/internal/sched"
	"github.com/veda-runtime/veda/goveda/internal/trace"
)

// newPanicError captures a recovered panic value with the current stack and counts it in p's
// Stats (p may be nil). Called from deferred recover handlers on any goroutine.
func newPanicError(p *sched.Pool, v any) *PanicError {
	if p != nil {
		p.NotePanic()
		if rec := p.Tracer(); rec != nil {
			rec.Add(trace.Event{Start: p.Now(), Track: trace.TrackOutside(), Ph: trace.PhInstant, Cat: trace.CatError,
				Name: "panic", Args: fmt.Sprintf(`"panic":%q`, fmt.Sprint(v))})
		}
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// callErr calls f and converts a panic into a *PanicError. Any goroutine.
func callErr(p *sched.Pool, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(p, v)
		}
	}()
	return f()
}

// callVal calls f and converts a panic into a *PanicError. Any goroutine.
func callVal[T any](p *sched.Pool, f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(p, r)
		}
	}()
	return f()
}

// callCtx calls f(ctx) and converts a panic into a *PanicError. Any goroutine.
func callCtx[T any](p *sched.Pool, ctx context.Context, f func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(p, r)
		}
	}()
	return f(ctx)
}
