package capi

/*
#include "capi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// maxElems bounds n and matrix spans so that element counts and byte sizes never overflow.
const maxElems = math.MaxInt64 / 16

//export vedago_saxpy_f32
func vedago_saxpy_f32(h C.uintptr_t, n C.int64_t, a C.float, x, y *C.float) (st C.veda_status) {
	const fn = "veda_saxpy_f32"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case n < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be >= 0", int64(n))
	case n > maxElems:
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, too large", int64(n))
	case n == 0:
		return stOK
	case x == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: x is NULL")
	case y == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: y is NULL")
	}
	xs := unsafe.Slice((*float32)(unsafe.Pointer(x)), int(n))
	ys := unsafe.Slice((*float32)(unsafe.Pointer(y)), int(n))
	return result(fn, e.rt.Saxpy(callCtx(), float32(a), xs, ys))
}

//export vedago_sum_f64
func vedago_sum_f64(h C.uintptr_t, n C.int64_t, x *C.double, out *C.double) (st C.veda_status) {
	const fn = "veda_sum_f64"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if done, st := checkReduce(fn, n, out, unsafe.Pointer(x), nil, false); done {
		return st
	}
	s, err := e.rt.SumF64(callCtx(), unsafe.Slice((*float64)(unsafe.Pointer(x)), int(n)))
	return storeSum(fn, out, s, err)
}

// checkReduce checks the arguments of a reduction export (sum, dot) in a fixed order: out, n,
// then the inputs x and, when useY, y. With n == 0 it stores 0 in out and reports done.
func checkReduce(fn string, n C.int64_t, out *C.double, x, y unsafe.Pointer, useY bool) (done bool, st C.veda_status) {
	switch {
	case out == nil:
		return true, fail(stInvalidArgument, fn, "veda: invalid argument: out is NULL")
	case n < 0:
		return true, fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be >= 0", int64(n))
	case n > maxElems:
		return true, fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, too large", int64(n))
	case n == 0:
		*out = 0
		return true, stOK
	case x == nil:
		return true, fail(stInvalidArgument, fn, "veda: invalid argument: x is NULL")
	case useY && y == nil:
		return true, fail(stInvalidArgument, fn, "veda: invalid argument: y is NULL")
	}
	return false, stOK
}

// storeSum finishes a reduction export: s into out, or err as the status.
func storeSum(fn string, out *C.double, s float64, err error) C.veda_status {
	if err != nil {
		return failErr(fn, err)
	}
	*out = C.double(s)
	return stOK
}

//export vedago_sgemm
func vedago_sgemm(h C.uintptr_t, m, n, k C.int64_t, alpha C.float, a *C.float, lda C.int64_t, b *C.float, ldb C.int64_t,
	beta C.float, c *C.float, ldc C.int64_t) (st C.veda_status) {
	const fn = "veda_sgemm"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	// goveda's rules (veda.h's); then the C side: a matrix the call addresses must not be NULL.
	la, lb, lc, err := goveda.SgemmSpans(int(m), int(n), int(k), float32(alpha), int(lda), int(ldb), int(ldc))
	switch {
	case err != nil:
		return failErr(fn, err)
	case lc == 0:
		return stOK // C is empty
	case c == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: c is NULL")
	case la > 0 && a == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: a is NULL")
	case lb > 0 && b == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: b is NULL")
	}
	as := unsafe.Slice((*float32)(unsafe.Pointer(a)), int(la))
	bs := unsafe.Slice((*float32)(unsafe.Pointer(b)), int(lb))
	cs := unsafe.Slice((*float32)(unsafe.Pointer(c)), int(lc))
	return result(fn, e.rt.Sgemm(callCtx(), int(m), int(n), int(k), float32(alpha), as, int(lda), bs, int(ldb), float32(beta), cs, int(ldc)))
}

//export vedago_sum_f32
func vedago_sum_f32(h C.uintptr_t, n C.int64_t, x *C.float, out *C.double) (st C.veda_status) {
	const fn = "veda_sum_f32"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if done, st := checkReduce(fn, n, out, unsafe.Pointer(x), nil, false); done {
		return st
	}
	s, err := e.rt.SumF32(callCtx(), unsafe.Slice((*float32)(unsafe.Pointer(x)), int(n)))
	return storeSum(fn, out, s, err)
}

//export vedago_dot_f32
func vedago_dot_f32(h C.uintptr_t, n C.int64_t, x, y *C.float, out *C.double) (st C.veda_status) {
	const fn = "veda_dot_f32"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if done, st := checkReduce(fn, n, out, unsafe.Pointer(x), unsafe.Pointer(y), true); done {
		return st
	}
	xs := unsafe.Slice((*float32)(unsafe.Pointer(x)), int(n))
	ys := unsafe.Slice((*float32)(unsafe.Pointer(y)), int(n))
	s, err := e.rt.DotF32(callCtx(), xs, ys)
	return storeSum(fn, out, s, err)
}

// maxStridedDims is the most dimensions veda_sum_*_strided accept (goveda's limit). Checked here
// too, before the shape and strides arrays are read.
const maxStridedDims = goveda.MaxStridedDims

// vedago_sum_strided serves veda_sum_f64_strided (f32 == 0) and veda_sum_f32_strided (f32 == 1).
// base arrives as an integer and becomes a pointer only when an element is addressed.
//
//export vedago_sum_strided
func vedago_sum_strided(h C.uintptr_t, f32 C.int, base C.uintptr_t, ndim C.int32_t, shape, strides *C.int64_t, out *C.double) (st C.veda_status) {
	fn := "veda_sum_f64_strided"
	if f32 != 0 {
		fn = "veda_sum_f32_strided"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case out == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: out is NULL")
	case ndim < 0 || ndim > maxStridedDims:
		return fail(stInvalidArgument, fn, "veda: invalid argument: ndim is %d, must be in [0, %d]", int32(ndim), maxStridedDims)
	case ndim > 0 && shape == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: shape is NULL but ndim is %d", int32(ndim))
	case ndim > 0 && strides == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: strides_bytes is NULL but ndim is %d", int32(ndim))
	}
	sh := make([]int, int(ndim))
	sd := make([]int, int(ndim))
	empty := false
	if ndim > 0 {
		cs := unsafe.Slice((*int64)(unsafe.Pointer(shape)), int(ndim))
		ct := unsafe.Slice((*int64)(unsafe.Pointer(strides)), int(ndim))
		for i := range sh {
			if cs[i] < 0 {
				return fail(stInvalidArgument, fn, "veda: invalid argument: shape[%d] is %d, must be >= 0", i, cs[i])
			}
			if ct[i] > maxElems || ct[i] < -maxElems {
				return fail(stInvalidArgument, fn, "veda: invalid argument: strides_bytes[%d] is %d, too large", i, ct[i])
			}
			sh[i], sd[i] = int(cs[i]), int(ct[i])
			empty = empty || cs[i] == 0
		}
	}
	addr := uintptr(base)
	if empty {
		addr = 0 // no element is addressed
	} else if addr == 0 {
		return fail(stInvalidArgument, fn, "veda: invalid argument: base is NULL")
	} else if addr < minValidAddr {
		return fail(stInvalidArgument, fn, "veda: invalid argument: base is %#x, not a valid address", addr)
	}
	var s float64
	var err error
	if f32 != 0 {
		s, err = e.rt.SumF32Strided(callCtx(), asPointer(addr), sh, sd)
	} else {
		s, err = e.rt.SumF64Strided(callCtx(), asPointer(addr), sh, sd)
	}
	return storeSum(fn, out, s, err)
}

//export vedago_distribute_sum_f32
func vedago_distribute_sum_f32(h C.uintptr_t, count C.int32_t, arrays **C.float, lengths *C.int64_t, sums *C.double,
	statuses *C.veda_status) (st C.veda_status) {
	const fn = "veda_distribute_sum_f32"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case count < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: count is %d, must be >= 0", int32(count))
	case count == 0:
		return stOK
	case arrays == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: arrays is NULL but count is %d", int32(count))
	case lengths == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: lengths is NULL but count is %d", int32(count))
	case sums == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: sums is NULL but count is %d", int32(count))
	}
	nitems := int(count)
	arrs := unsafe.Slice((*uintptr)(unsafe.Pointer(arrays)), nitems) // integers: entries may be garbage
	lens := unsafe.Slice((*int64)(unsafe.Pointer(lengths)), nitems)
	out := unsafe.Slice((*float64)(unsafe.Pointer(sums)), nitems)
	var stats []C.veda_status
	if statuses != nil {
		stats = unsafe.Slice(statuses, nitems)
	}
	errs := make([]error, nitems)
	// Items that pass the checks go to goveda as one batch; idx maps batch position -> item.
	xs := make([][]float32, 0, nitems)
	idx := make([]int, 0, nitems)
	for i := 0; i < nitems; i++ {
		n, p := lens[i], arrs[i]
		switch {
		case n < 0:
			errs[i] = invalidItem("lengths[%d] is %d, must be >= 0", i, n)
			continue
		case n > maxElems:
			errs[i] = invalidItem("lengths[%d] is %d, too large", i, n)
			continue
		case n > 0 && p == 0:
			errs[i] = invalidItem("arrays[%d] is NULL but lengths[%d] is %d", i, i, n)
			continue
		case n > 0 && p < minValidAddr:
			errs[i] = invalidItem("arrays[%d] is %#x, not a valid address", i, p)
			continue
		}
		var x []float32
		if n > 0 {
			x = unsafe.Slice((*float32)(asPointer(p)), int(n))
		}
		xs = append(xs, x)
		idx = append(idx, i)
	}
	var res []float64
	if len(xs) > 0 {
		var err error
		res, err = e.rt.DistributeSumF32(callCtx(), xs)
		var be *goveda.BatchError
		switch {
		case err == nil:
		case errors.As(err, &be) && len(be.Errs) == len(xs):
			for j, ej := range be.Errs {
				errs[idx[j]] = ej
			}
		default: // the whole batch failed (closed runtime, ...)
			for _, i := range idx {
				errs[i] = err
			}
			res = nil
		}
	}
	first, nfailed := -1, 0
	var summary strings.Builder
	for i := 0; i < nitems; i++ {
		if errs[i] == nil {
			if stats != nil {
				stats[i] = stOK
			}
			continue
		}
		if stats != nil {
			stats[i] = statusOf(errs[i])
		}
		out[i] = math.NaN()
		if first < 0 {
			first = i
		}
		if nfailed < 3 {
			fmt.Fprintf(&summary, "; item %d: %v", i, errs[i])
		}
		nfailed++
	}
	for j, i := range idx {
		if errs[i] == nil && j < len(res) {
			out[i] = res[j]
		}
	}
	if first < 0 {
		return stOK
	}
	return fail(statusOf(errs[first]), fn, "veda: %d of %d items failed%s", nfailed, nitems, summary.String())
}

// invalidItem is the error of one bad item of a batch; it wraps goveda.ErrInvalidArgument.
func invalidItem(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{goveda.ErrInvalidArgument}, args...)...)
}
