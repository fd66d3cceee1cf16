package goveda

import (
	"context"
	"iter"
)

// Source is where a pipeline run reads its items: build one with SourceSeq, SourceChan,
// SourceSlice or SourceFunc. The zero Source is invalid (Run returns ErrInvalidArgument). A Source
// may be used by several runs one after another; each run opens it afresh (SourceSeq starts the
// sequence again; a channel or a function simply goes on).
//
// The run calls the source from one task at a time (it is a serial stage), on a worker, and only
// while the bounds leave room; a source that blocks holds that worker while it waits.
type Source[T any] struct {
	open func() (next func(ctx context.Context, seq int64) (T, bool, error), close func())
}

func noClose() {}

// SourceFunc returns a Source that calls f for item seq (0, 1, 2, ...): f returns (item, true,
// nil) for an item, ok == false at the end of the stream, or an error (the run then fails at seq).
// A nil f gives the zero (invalid) Source.
func SourceFunc[T any](f func(ctx context.Context, seq int64) (item T, ok bool, err error)) Source[T] {
	if f == nil {
		return Source[T]{}
	}
	return Source[T]{open: func() (func(context.Context, int64) (T, bool, error), func()) { return f, noClose }}
}

// SourceSeq returns a Source that pulls the items of seq (with iter.Pull), from the start on every
// run; the run stops the iterator when it ends early. A nil seq gives the zero Source. The
// sequence's body runs on the iterator's own goroutine, not on a worker: a ParallelFor inside it is
// an outside call.
func SourceSeq[T any](seq iter.Seq[T]) Source[T] {
	if seq == nil {
		return Source[T]{}
	}
	return Source[T]{open: func() (func(context.Context, int64) (T, bool, error), func()) {
		next, stop := iter.Pull(seq)
		return func(context.Context, int64) (T, bool, error) {
			v, ok := next()
			return v, ok, nil
		}, stop
	}}
}

// SourceChan returns a Source that receives from ch until it is closed; a cancelled run stops
// waiting at once. A nil ch gives the zero Source.
func SourceChan[T any](ch <-chan T) Source[T] {
	if ch == nil {
		return Source[T]{}
	}
	return Source[T]{open: func() (func(context.Context, int64) (T, bool, error), func()) {
		return func(ctx context.Context, _ int64) (T, bool, error) {
			select {
			case v, ok := <-ch:
				return v, ok, nil
			case <-ctx.Done():
				var zero T
				return zero, false, ctxErr(ctx)
			}
		}, noClose
	}}
}

// SourceSlice returns a Source of the elements of s, in order.
func SourceSlice[T any](s []T) Source[T] {
	return SourceFunc(func(_ context.Context, seq int64) (T, bool, error) {
		if seq >= int64(len(s)) {
			var zero T
			return zero, false, nil
		}
		return s[seq], true, nil
	})
}
