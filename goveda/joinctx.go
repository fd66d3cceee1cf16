package goveda

import "context"

// JoinCtx is Join with a context. fa and fb get a context that is done once ctx is done or once
// either of them returned an error (its cause is that error), so one failing half can stop the
// other. If ctx is already done, neither runs and the error wraps ErrCancelled; if the context is
// done by the time fb would start (fb was queued while fa ran and failed), fb does not start.
// Results and errors otherwise as Join (fa's error first). Any goroutine; blocking. Cost: Join's
// plus one context.
func JoinCtx[A, B any](ctx context.Context, rt *Runtime, fa func(ctx context.Context) (A, error), fb func(ctx context.Context) (B, error)) (A, B, error) {
	var a A
	var b B
	if fa == nil || fb == nil {
		return a, b, invalidf("JoinCtx: fa and fb must not be nil")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return a, b, ctxErr(ctx)
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	return Join(rt,
		func() (A, error) {
			v, err := fa(jctx)
			if err != nil {
				cancel(err)
			}
			return v, err
		},
		func() (B, error) {
			if jctx.Err() != nil {
				var zero B
				return zero, ctxErr(jctx)
			}
			v, err := fb(jctx)
			if err != nil {
				cancel(err)
			}
			return v, err
		})
}
