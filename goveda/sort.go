package goveda

import (
	"cmp"
	"context"
	"slices"
)

// Parallel sort: a merge sort whose leaves are sorted with the standard library's pdqsort
// (slices.Sort / slices.SortFunc) and whose merges are themselves parallel (split the larger
// run at its middle, binary-search the split point in the other, merge both halves in a Join).
// One scratch buffer of len(s) elements is allocated per call; each level merges from one
// buffer into the other (they alternate by level, so there is no copy-back pass). Not stable
// (as slices.Sort).

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
	return sortImpl(ctx, rt, "Sort", s, opts, slices.Sort[[]T], cmp.Less[T], mergeOrdered[T])
}

// SortFunc sorts s in ascending order as determined by cmp (as slices.SortFunc: cmp(a, b) < 0
// means a before b; it must be a strict weak order), in parallel. Otherwise as Sort.
func SortFunc[T any](ctx context.Context, rt *Runtime, s []T, cmp func(a, b T) int, opts ...SliceOption) error {
	if cmp == nil {
		return invalidf("SortFunc: cmp is nil")
	}
	less := func(a, b T) bool { return cmp(a, b) < 0 }
	return sortImpl(ctx, rt, "SortFunc", s, opts,
		func(x []T) { slices.SortFunc(x, cmp) }, less,
		func(a, b, out []T) { mergeSeq(a, b, out, less) })
}

// sortState is one Sort call.
type sortState[T any] struct {
	rt    *Runtime
	ctx   context.Context
	dl    deadline // ctx's, checked on the sort's own clock before each node (parallel.go)
	leaf  int
	seq   func([]T)           // sequential sort of a leaf
	less  func(a, b T) bool   // for split points
	merge func(a, b, out []T) // sequential merge (specialised for cmp.Ordered: no call per element)
}

func sortImpl[T any](ctx context.Context, rt *Runtime, what string, s []T, opts []SliceOption,
	seq func([]T), less func(a, b T) bool, merge func(a, b, out []T)) error {
	if rt == nil {
		return nilRuntime(what)
	}
	c, err := sliceOptions(what, opts)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(ctx)
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
	st := &sortState[T]{rt: rt, ctx: ctx, dl: deadlineOf(ctx), leaf: leaf, seq: seq, less: less, merge: merge}
	buf := make([]T, len(s))
	_, _, err = Join(rt, func() (struct{}, error) { return struct{}{}, st.sort(s, buf, false) },
		func() (struct{}, error) { return struct{}{}, nil })
	return loopErr(ctx, err)
}

// sort sorts the elements of src; the result lands in dst (same length) if inDst, else in src.
// The halves are sorted into the other buffer, then merged into the wanted one, so each level
// moves every element once and no copy-back pass is needed (a leaf copies at most once). On a
// worker.
func (st *sortState[T]) sort(src, dst []T, inDst bool) error {
	if err := st.ctx.Err(); err != nil {
		return ctxErr(st.ctx)
	}
	if st.dl.passed() {
		return errPastDeadline
	}
	if len(src) <= st.leaf {
		st.seq(src)
		if inDst {
			copy(dst, src)
		}
		return nil
	}
	m := len(src) / 2
	_, _, err := Join(st.rt,
		func() (struct{}, error) { return struct{}{}, st.sort(src[:m], dst[:m], !inDst) },
		func() (struct{}, error) { return struct{}{}, st.sort(src[m:], dst[m:], !inDst) })
	if err != nil {
		return err
	}
	from, to := dst, src // the halves are sorted in the buffer opposite to the one wanted
	if inDst {
		from, to = src, dst
	}
	if !st.less(from[m], from[m-1]) { // already in order: move without merging
		return st.copy(to, from)
	}
	return st.mergePar(from[:m], from[m:], to)
}

// mergePar merges the sorted runs a and b into out (len(out) == len(a)+len(b)), in parallel.
func (st *sortState[T]) mergePar(a, b, out []T) error {
	if len(a)+len(b) <= mergeMinRun {
		st.merge(a, b, out)
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
		func() (struct{}, error) { return struct{}{}, st.mergePar(a[:i], b[:j], out[:i+j]) },
		func() (struct{}, error) { return struct{}{}, st.mergePar(a[i:], b[j:], out[i+j:]) })
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

// mergeOrdered is mergeSeq for cmp.Ordered elements, with the comparison inlined.
func mergeOrdered[T cmp.Ordered](a, b, out []T) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp.Less(b[j], a[i]) {
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
