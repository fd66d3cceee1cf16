package goveda

import (
	"cmp"
	"context"
	"errors"
	"sync/atomic"
)

// Parallel slice helpers in the Rayon spirit (par_iter().for_each / map / filter / min / max /
// find_any / count). Each takes the runtime, a context and options (Grain), runs on the pool
// (the calling worker helps when called from a task), and returns an error for a cancelled
// context (wrapping ErrCancelled), a panic in a callback (*PanicError), a closed runtime
// (ErrClosed) or bad options (ErrInvalidArgument). A cancelled call starts no new chunk; its
// partial results are dropped.

// SliceOption configures a slice helper (ForEach, MapSlice, MapErr, Filter, Sort, SortFunc,
// MinMax, Find, Count).
type SliceOption func(*sliceConfig)

type sliceConfig struct {
	grain int
}

// Grain sets the smallest number of elements one chunk processes (0, the default, is automatic:
// chunks are cut only while other workers are idle). A negative grain makes the call return an
// error wrapping ErrInvalidArgument.
func Grain(n int) SliceOption { return func(c *sliceConfig) { c.grain = n } }

func sliceOptions(what string, opts []SliceOption) (sliceConfig, error) {
	var c sliceConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.grain < 0 {
		return c, invalidf("%s: grain is %d, must be >= 0", what, c.grain)
	}
	return c, nil
}

// ForEach calls f(i, s[i]) for every index of s, in parallel, and returns when all calls
// returned. f may write s[i] (each index is visited exactly once) but no other element.
// Any goroutine; blocking.
func ForEach[T any](ctx context.Context, rt *Runtime, s []T, f func(i int, v T), opts ...SliceOption) error {
	c, err := sliceOptions("ForEach", opts)
	if err != nil {
		return err
	}
	if f == nil {
		return invalidf("ForEach: f is nil")
	}
	return rt.ParallelFor(ctx, 0, len(s), c.grain, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			f(i, s[i])
		}
		return nil
	})
}

// MapSlice returns out with out[i] = f(s[i]), computed in parallel. On error out is nil.
// Any goroutine; blocking.
func MapSlice[T, U any](ctx context.Context, rt *Runtime, s []T, f func(T) U, opts ...SliceOption) ([]U, error) {
	c, err := sliceOptions("MapSlice", opts)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, invalidf("MapSlice: f is nil")
	}
	out := make([]U, len(s))
	err = rt.ParallelFor(ctx, 0, len(s), c.grain, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			out[i] = f(s[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MapErr returns out with out[i] = f(i, s[i]), computed in parallel. The first error f returns
// (in time, not necessarily at the lowest index) is returned as-is, no new chunk starts after
// it, and out is nil. Any goroutine; blocking.
func MapErr[T, U any](ctx context.Context, rt *Runtime, s []T, f func(i int, v T) (U, error), opts ...SliceOption) ([]U, error) {
	c, err := sliceOptions("MapErr", opts)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, invalidf("MapErr: f is nil")
	}
	out := make([]U, len(s))
	err = rt.ParallelFor(ctx, 0, len(s), c.grain, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			v, err := f(i, s[i])
			if err != nil {
				return err
			}
			out[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Filter returns the elements of s for which keep returns true, in their order in s, computed in
// parallel (each chunk filters into its own buffer; the buffers are concatenated in order).
// Any goroutine; blocking.
func Filter[T any](ctx context.Context, rt *Runtime, s []T, keep func(T) bool, opts ...SliceOption) ([]T, error) {
	c, err := sliceOptions("Filter", opts)
	if err != nil {
		return nil, err
	}
	if keep == nil {
		return nil, invalidf("Filter: keep is nil")
	}
	// A reduction over ordered chunk lists: combine concatenates left then right, so the order
	// of s is kept whatever the split.
	type part struct{ chunks [][]T }
	res, err := Reduce(ctx, rt, 0, len(s), c.grain, part{},
		func(lo, hi int, acc part) part {
			var kept []T
			for _, v := range s[lo:hi] {
				if keep(v) {
					kept = append(kept, v)
				}
			}
			if len(kept) > 0 {
				acc.chunks = append(acc.chunks, kept)
			}
			return acc
		},
		func(a, b part) part { return part{append(a.chunks, b.chunks...)} })
	if err != nil {
		return nil, err
	}
	n := 0
	for _, ch := range res.chunks {
		n += len(ch)
	}
	out := make([]T, 0, n)
	for _, ch := range res.chunks {
		out = append(out, ch...)
	}
	return out, nil
}

// MinMax returns the smallest and the largest element of s (as cmp.Less orders them: a NaN is
// smaller than any number), computed in parallel. An empty s returns zero values and an error
// wrapping ErrInvalidArgument. Any goroutine; blocking.
func MinMax[T cmp.Ordered](ctx context.Context, rt *Runtime, s []T, opts ...SliceOption) (lo, hi T, err error) {
	c, err := sliceOptions("MinMax", opts)
	if err != nil {
		return lo, hi, err
	}
	if len(s) == 0 {
		return lo, hi, invalidf("MinMax: the slice is empty")
	}
	type mm struct {
		lo, hi T
		ok     bool
	}
	res, err := Reduce(ctx, rt, 0, len(s), c.grain, mm{},
		func(i, j int, acc mm) mm {
			a, b := s[i], s[i]
			for _, v := range s[i+1 : j] {
				if cmp.Less(v, a) {
					a = v
				}
				if cmp.Less(b, v) {
					b = v
				}
			}
			if !acc.ok {
				return mm{a, b, true}
			}
			return mm{min2(acc.lo, a), max2(acc.hi, b), true}
		},
		func(x, y mm) mm {
			switch {
			case !x.ok:
				return y
			case !y.ok:
				return x
			}
			return mm{min2(x.lo, y.lo), max2(x.hi, y.hi), true}
		})
	if err != nil {
		return lo, hi, err
	}
	return res.lo, res.hi, nil
}

func min2[T cmp.Ordered](a, b T) T {
	if cmp.Less(b, a) {
		return b
	}
	return a
}

func max2[T cmp.Ordered](a, b T) T {
	if cmp.Less(a, b) {
		return b
	}
	return a
}

// errFound stops Find's loop once a match was recorded; it never leaves Find.
var errFound = errors.New("veda: found")

// Find returns the index of an element of s for which pred returns true, or -1 if there is none.
// Any match, not necessarily the first (Rayon's find_any): once one is found no new chunk starts
// and running chunks stop at their next element. Any goroutine; blocking.
func Find[T any](ctx context.Context, rt *Runtime, s []T, pred func(T) bool, opts ...SliceOption) (int, error) {
	c, err := sliceOptions("Find", opts)
	if err != nil {
		return -1, err
	}
	if pred == nil {
		return -1, invalidf("Find: pred is nil")
	}
	var found atomic.Int64
	found.Store(-1) // plain init before the loop starts (happens-before via task publication)
	err = rt.ParallelFor(ctx, 0, len(s), c.grain, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			// load (relaxed use): only an early-exit hint; the CAS below decides the result.
			if found.Load() >= 0 {
				return errFound
			}
			if pred(s[i]) {
				found.CompareAndSwap(-1, int64(i)) // CAS: the first match recorded wins
				return errFound
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return -1, err
	}
	// load: after ParallelFor returned, every chunk's writes are visible (the join's latch).
	return int(found.Load()), nil
}

// Count returns the number of elements of s for which pred returns true, computed in parallel.
// Any goroutine; blocking.
func Count[T any](ctx context.Context, rt *Runtime, s []T, pred func(T) bool, opts ...SliceOption) (int, error) {
	c, err := sliceOptions("Count", opts)
	if err != nil {
		return 0, err
	}
	if pred == nil {
		return 0, invalidf("Count: pred is nil")
	}
	return Reduce(ctx, rt, 0, len(s), c.grain, 0,
		func(lo, hi int, acc int) int {
			for _, v := range s[lo:hi] {
				if pred(v) {
					acc++
				}
			}
			return acc
		},
		func(a, b int) int { return a + b })
}
