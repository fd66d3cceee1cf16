package goveda

import (
	"cmp"
	"context"
	"slices"
)

// Parallel sort: a merge sort whose leaves are sorted with the standard library's pdqsort
// (slices.Sort / slices.SortFunc) and whose merges are themselves parallel (split the larger
// run at its middle, binary-search the split point in the other, merge both halves in a Join).
// One scratch buffer of len(s) elements is allocated per call; each level merges from s into
// the buffer and the result is copied back in parallel. Not stable (as slices.Sort).

// sortLeavesPerWorker sets the automatic leaf size: about this many leaves per worker, so that
// the pool can balance uneven leaves, while each leaf stays large enough for pdqsort's speed.
const (
	sortLeavesPerWorker = 4
	sortMinLeaf         = 1 << 12 // below this a sort runs sequentially
	mergeMinRun         = 1 << 13 // a merge below this many elements runs sequentially
)

// Sort sorts s in ascending order (as slices.Sort: cmp.Less, NaNs first), in parallel. Grain is
// the leaf size below which a run is sorted sequentially (0: automatic). Errors as the other
// slice helpers; on error s holds its elements in an unspecified order. Cost: O(n log n) work, one
// buffer of len(s). Any goroutine; blocking.
func Sort[T cmp.Ordered](ctx context.Context, rt *Runtime, s []T, opts ...SliceOption) error {
	return sortImpl(ctx, rt, "Sort", s, opts, slices.Sort[[]T], cmp.Less[T])
}

// SortFunc sorts s in ascending order as determined by cmp (as slices.SortFunc: cmp(a, b) < 0
// means a before b; it must be a strict weak order), in parallel. Otherwise as Sort.
func SortFunc[T any](ctx context.Context, rt *Runtime, s []T, cmp func(a, b T) int, opts ...SliceOption) error {
	if cmp == nil {
		return invalidf("SortFunc: cmp is nil")
	}
	return sortImpl(ctx, rt, "SortFunc", s, opts,
		func(x []T) { slices.SortFunc(x, cmp) },
		func(a, b T) bool { return cmp(a, b) < 0 })
}

// sortState is one Sort call.
type sortState[T any] struct {
	rt   *Runtime
	ctx  context.Context
	leaf int
	seq  func([]T)
	less func(a, b T) bool
}

func sortImpl[T any](ctx context.Context, rt *Runtime, what string, s []T, opts []SliceOption,
	seq func([]T), less func(a, b T) bool) error {
	c, err := sliceOptions(what, opts)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return ctxError(context.Cause(ctx))
	}
	leaf := c.grain
	if leaf == 0 {
		leaf = len(s) / (sortLeavesPerWorker * rt.Workers())
		if leaf < sortMinLeaf {
			leaf = sortMinLeaf
		}
	}
	if len(s) <= leaf || rt.Workers() == 1 && c.grain == 0 {
		seq(s)
		return nil
	}
	st := &sortState[T]{rt: rt, ctx: ctx, leaf: leaf, seq: seq, less: less}
	buf := make([]T, len(s))
	_, _, err = Join(rt, func() (struct{}, error) { return struct{}{}, st.sort(s, buf) },
		func() (struct{}, error) { return struct{}{}, nil })
	return err
}

// sort sorts s using buf (same length) as scratch; the result is in s. On a worker.
func (st *sortState[T]) sort(s, buf []T) error {
	if err := st.ctx.Err(); err != nil {
		return ctxError(context.Cause(st.ctx))
	}
	if len(s) <= st.leaf {
		st.seq(s)
		return nil
	}
	m := len(s) / 2
	_, _, err := Join(st.rt,
		func() (struct{}, error) { return struct{}{}, st.sort(s[:m], buf[:m]) },
		func() (struct{}, error) { return struct{}{}, st.sort(s[m:], buf[m:]) })
	if err != nil {
		return err
	}
	if !st.less(s[m], s[m-1]) { // already in order: nothing to merge
		return nil
	}
	if err := st.merge(s[:m], s[m:], buf); err != nil {
		return err
	}
	return st.copy(s, buf)
}

// merge merges the sorted runs a and b into out (len(out) == len(a)+len(b)), in parallel.
func (st *sortState[T]) merge(a, b, out []T) error {
	if len(a)+len(b) <= mergeMinRun {
		mergeSeq(a, b, out, st.less)
		return nil
	}
	if len(a) < len(b) {
		a, b = b, a // split the longer run; merging is symmetric up to ties, which sort ignores
	}
	i := len(a) / 2
	// j: the first element of b not less than a[i], so b[:j] < a[i] <= b[j:].
	j, _ := slices.BinarySearchFunc(b, a[i], func(x, t T) int {
		if st.less(x, t) {
			return -1
		}
		return 1
	})
	_, _, err := Join(st.rt,
		func() (struct{}, error) { return struct{}{}, st.merge(a[:i], b[:j], out[:i+j]) },
		func() (struct{}, error) { return struct{}{}, st.merge(a[i:], b[j:], out[i+j:]) })
	return err
}

// copy copies src into dst in parallel chunks.
func (st *sortState[T]) copy(dst, src []T) error {
	if len(src) <= 4*mergeMinRun {
		copy(dst, src)
		return nil
	}
	m := len(src) / 2
	_, _, err := Join(st.rt,
		func() (struct{}, error) { return struct{}{}, st.copy(dst[:m], src[:m]) },
		func() (struct{}, error) { return struct{}{}, st.copy(dst[m:], src[m:]) })
	return err
}

// mergeSeq merges sorted a and b into out. Taking from b only when b's head is strictly less
// keeps a's elements first among equals.
func mergeSeq[T any](a, b, out []T, less func(x, y T) bool) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if less(b[j], a[i]) {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
}
