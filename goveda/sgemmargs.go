package goveda

import (
	"fmt"
	"math"
)

// maxSgemmSpan bounds the elements one matrix of an Sgemm call may span, so that byte sizes
// (4 per element, and packing buffers) never overflow an int.
const maxSgemmSpan = math.MaxInt / 16

// SgemmSpans applies the argument rules of Sgemm (and of the C ABI's veda_sgemm, which calls it)
// and returns how many elements of A, B and C the call addresses: (rows-1)*ld + cols for a
// matrix it references, 0 for one it does not. The rules are veda.h's:
//
//   - m, n, k >= 0;
//   - lda >= max(1, k), ldb >= max(1, n), ldc >= max(1, n);
//   - A and B are referenced only when m, n and k are non-zero and alpha != 0 (as in BLAS, so
//     they may then be empty or, from C, NULL); C is referenced whenever m and n are non-zero;
//   - a referenced matrix spans at most math.MaxInt/16 elements.
//
// The error wraps ErrInvalidArgument and names the argument, without a Go identifier, e.g.
// "veda: invalid argument: lda is 2, must be >= max(1, k) = 3". Any goroutine; O(1).
func SgemmSpans(m, n, k int, alpha float32, lda, ldb, ldc int) (la, lb, lc int, err error) {
	la, lb, lc, problem := sgemmSpans(m, n, k, alpha, lda, ldb, ldc)
	if problem != "" {
		return 0, 0, 0, invalidf("%s", problem)
	}
	return la, lb, lc, nil
}

// sgemmSpans is SgemmSpans with the problem as text ("" when the arguments are valid).
func sgemmSpans(m, n, k int, alpha float32, lda, ldb, ldc int) (la, lb, lc int, problem string) {
	max1 := func(v int) int { return max(v, 1) }
	switch {
	case m < 0:
		return 0, 0, 0, fmt.Sprintf("m is %d, must be >= 0", m)
	case n < 0:
		return 0, 0, 0, fmt.Sprintf("n is %d, must be >= 0", n)
	case k < 0:
		return 0, 0, 0, fmt.Sprintf("k is %d, must be >= 0", k)
	case lda < max1(k):
		return 0, 0, 0, fmt.Sprintf("lda is %d, must be >= max(1, k) = %d", lda, max1(k))
	case ldb < max1(n):
		return 0, 0, 0, fmt.Sprintf("ldb is %d, must be >= max(1, n) = %d", ldb, max1(n))
	case ldc < max1(n):
		return 0, 0, 0, fmt.Sprintf("ldc is %d, must be >= max(1, n) = %d", ldc, max1(n))
	}
	span := func(name string, rows, cols, ld int) (int, string) {
		if rows > 1 && ld > (maxSgemmSpan-cols)/(rows-1) {
			return 0, fmt.Sprintf("%s: %d rows with row stride %d are too large (the span overflows)", name, rows, ld)
		}
		return (rows-1)*ld + cols, ""
	}
	if m == 0 || n == 0 {
		return 0, 0, 0, ""
	}
	if lc, problem = span("c", m, n, ldc); problem != "" {
		return 0, 0, 0, problem
	}
	if k == 0 || alpha == 0 {
		return 0, 0, lc, ""
	}
	if la, problem = span("a", m, k, lda); problem != "" {
		return 0, 0, 0, problem
	}
	if lb, problem = span("b", k, n, ldb); problem != "" {
		return 0, 0, 0, problem
	}
	return la, lb, lc, ""
}

// checkSgemm validates Sgemm's arguments (SgemmSpans, then each slice's length); name is the
// caller ("Sgemm", "Device.Sgemm") for the message.
func checkSgemm(name string, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) error {
	la, lb, lc, problem := sgemmSpans(m, n, k, alpha, lda, ldb, ldc)
	if problem != "" {
		return invalidf("%s: %s", name, problem)
	}
	for _, s := range []struct {
		name string
		got  int
		need int
	}{{"a", len(a), la}, {"b", len(b), lb}, {"c", len(c), lc}} {
		if s.got < s.need {
			return invalidf("%s: len(%s) is %d, need at least %d", name, s.name, s.got, s.need)
		}
	}
	return nil
}
