package goveda

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestSgemmSpans: the one set of sgemm argument rules (veda.h's), also what veda_sgemm applies.
func TestSgemmSpans(t *testing.T) {
	cases := []struct {
		name          string
		m, n, k       int
		alpha         float32
		lda, ldb, ldc int
		la, lb, lc    int
		problem       string // substring of the error, "" = valid
	}{
		{"square", 2, 3, 4, 1, 4, 3, 3, 8, 12, 6, ""},
		{"padded", 2, 3, 4, 1, 5, 7, 9, 9, 24, 12, ""},
		{"alpha 0: A and B not read", 2, 3, 4, 0, 4, 3, 3, 0, 0, 6, ""},
		{"k 0: A and B not read", 2, 3, 0, 1, 1, 3, 3, 0, 0, 6, ""},
		{"m 0: nothing addressed", 0, 3, 4, 1, 4, 3, 3, 0, 0, 0, ""},
		{"n 0: nothing addressed", 2, 0, 4, 1, 4, 1, 1, 0, 0, 0, ""},
		{"lda >= max(1, k) with k 0", 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, "lda is 0, must be >= max(1, k) = 1"},
		{"ldb >= max(1, n) with n 0", 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, "ldb is 0, must be >= max(1, n) = 1"},
		{"ldc >= max(1, n) with n 0", 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, "ldc is 0, must be >= max(1, n) = 1"},
		{"lda < k", 2, 2, 3, 1, 2, 2, 2, 0, 0, 0, "lda is 2, must be >= max(1, k) = 3"},
		{"negative m", -1, 2, 2, 1, 2, 2, 2, 0, 0, 0, "m is -1"},
		{"negative n", 2, -1, 2, 1, 2, 1, 1, 0, 0, 0, "n is -1"},
		{"negative k", 2, 2, -1, 1, 1, 2, 2, 0, 0, 0, "k is -1"},
		{"overflow", 3, 1, 1, 1, math.MaxInt / 2, 1, 1, 0, 0, 0, "too large"},
		{"overflow of an unread A is harmless", 3, 1, 1, 0, math.MaxInt / 2, 1, 1, 0, 0, 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			la, lb, lc, err := SgemmSpans(c.m, c.n, c.k, c.alpha, c.lda, c.ldb, c.ldc)
			if c.problem != "" {
				if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.problem) || strings.Contains(err.Error(), "Sgemm") {
					t.Fatalf("err = %v, want ErrInvalidArgument naming %q (and no Go name)", err, c.problem)
				}
				return
			}
			if err != nil || la != c.la || lb != c.lb || lc != c.lc {
				t.Fatalf("= %d, %d, %d, %v; want %d, %d, %d", la, lb, lc, err, c.la, c.lb, c.lc)
			}
		})
	}
}

// TestSgemmAlphaZeroNilAB: Sgemm follows the same rules: alpha == 0 reads neither A nor B (nil
// is fine) and scales C by beta; lda = 0 with k = 0 is rejected as in C.
func TestSgemmAlphaZeroNilAB(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	c := []float32{1, 2, 3, 4}
	if err := rt.Sgemm(bg, 2, 2, 2, 0, nil, 2, nil, 2, 0.5, c, 2); err != nil {
		t.Fatal(err)
	}
	if c[0] != 0.5 || c[1] != 1 || c[2] != 1.5 || c[3] != 2 {
		t.Fatalf("C = %v, want beta*C", c)
	}
	if err := rt.Sgemm(bg, 1, 1, 0, 1, nil, 0, nil, 1, 1, c, 1); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "Sgemm: lda is 0") {
		t.Fatalf("lda 0 with k 0: %v", err)
	}
}
