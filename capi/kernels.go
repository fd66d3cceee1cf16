package main

/*
#include "capi.h"
*/
import "C"

import (
	"math"
	"unsafe"
)

// maxElems bounds n and matrix spans so that element counts and byte sizes never overflow.
const maxElems = math.MaxInt64 / 16

// spanLen returns the number of elements a row-major matrix of rows x cols with row stride ld
// covers: (rows-1)*ld + cols, or 0 if rows or cols is 0; ok is false on overflow.
func spanLen(rows, cols, ld int64) (int64, bool) {
	if rows == 0 || cols == 0 {
		return 0, true
	}
	if rows-1 > 0 && ld > (maxElems-cols)/(rows-1) {
		return 0, false
	}
	return (rows-1)*ld + cols, true
}

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
	return result(fn, e.rt.Saxpy(bg, float32(a), xs, ys))
}

//export vedago_sum_f64
func vedago_sum_f64(h C.uintptr_t, n C.int64_t, x *C.double, out *C.double) (st C.veda_status) {
	const fn = "veda_sum_f64"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	switch {
	case out == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: out is NULL")
	case n < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be >= 0", int64(n))
	case n > maxElems:
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, too large", int64(n))
	case n == 0:
		*out = 0
		return stOK
	case x == nil:
		return fail(stInvalidArgument, fn, "veda: invalid argument: x is NULL")
	}
	xs := unsafe.Slice((*float64)(unsafe.Pointer(x)), int(n))
	s, err := e.rt.SumF64(bg, xs)
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
	max1 := func(v C.int64_t) C.int64_t {
		if v < 1 {
			return 1
		}
		return v
	}
	switch {
	case m < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: m is %d, must be >= 0", int64(m))
	case n < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be >= 0", int64(n))
	case k < 0:
		return fail(stInvalidArgument, fn, "veda: invalid argument: k is %d, must be >= 0", int64(k))
	case lda < max1(k):
		return fail(stInvalidArgument, fn, "veda: invalid argument: lda is %d, must be >= max(1, k) = %d", int64(lda), int64(max1(k)))
	case ldb < max1(n):
		return fail(stInvalidArgument, fn, "veda: invalid argument: ldb is %d, must be >= max(1, n) = %d", int64(ldb), int64(max1(n)))
	case ldc < max1(n):
		return fail(stInvalidArgument, fn, "veda: invalid argument: ldc is %d, must be >= max(1, n) = %d", int64(ldc), int64(max1(n)))
	}
	la, okA := spanLen(int64(m), int64(k), int64(lda))
	lb, okB := spanLen(int64(k), int64(n), int64(ldb))
	lc, okC := spanLen(int64(m), int64(n), int64(ldc))
	switch {
	case !okA:
		return fail(stInvalidArgument, fn, "veda: invalid argument: m*lda is too large")
	case !okB:
		return fail(stInvalidArgument, fn, "veda: invalid argument: k*ldb is too large")
	case !okC:
		return fail(stInvalidArgument, fn, "veda: invalid argument: m*ldc is too large")
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
	return result(fn, e.rt.Sgemm(bg, int(m), int(n), int(k), float32(alpha), as, int(lda), bs, int(ldb), float32(beta), cs, int(ldc)))
}
