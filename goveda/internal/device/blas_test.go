package device

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBLASLoadMissingNamesPath(t *testing.T) {
	in := loadBLAS("", "/nonexistent/libopenblas.so.0")
	if in.Found || !strings.Contains(in.Why, "/nonexistent/libopenblas.so.0") {
		t.Fatalf("missing library: %+v", in)
	}
	if in := loadBLAS("off", ""); in.Found || !strings.Contains(in.Why, "VEDA_BLAS=off") {
		t.Fatalf("off: %+v", in)
	}
	// A library without CBLAS symbols is skipped with the reason (libc has none).
	if in := loadBLAS("", "libc.so.6"); in.Found || !strings.Contains(in.Why, "cblas_sgemm") {
		t.Fatalf("libc: %+v", in)
	}
}

func TestBLASKernelsAgainstReference(t *testing.T) {
	in := BLAS()
	if !in.Found {
		t.Skipf("no CPU BLAS: %s", in.Why)
	}
	t.Logf("BLAS: %s (%s)", in.Library, in.Config)
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {64, 64, 64}} {
		m, n, k := sh[0], sh[1], sh[2]
		lda, ldb, ldc := k+3, n+1, n+2
		a := make([]float32, m*lda)
		b := make([]float32, k*ldb)
		c := make([]float32, m*ldc)
		for i := range a {
			a[i] = r.Float32() - 0.5
		}
		for i := range b {
			b[i] = r.Float32() - 0.5
		}
		for i := range c {
			c[i] = r.Float32()
		}
		want := append([]float32(nil), c...)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					s += float64(a[i*lda+p]) * float64(b[p*ldb+j])
				}
				want[i*ldc+j] = float32(1.5*s + 0.5*float64(c[i*ldc+j]))
			}
		}
		BLASSgemm(m, n, k, 1.5, a, lda, b, ldb, 0.5, c, ldc)
		for i := range c {
			if math.Abs(float64(c[i]-want[i])) > 1e-4*float64(k) {
				t.Fatalf("sgemm %v: c[%d] = %v, want %v", sh, i, c[i], want[i])
			}
		}
	}
	x := []float32{1, 2, 3, 4, 5}
	y := []float32{5, 4, 3, 2, 1}
	if got := BLASSdot(x, y); got != 35 {
		t.Fatalf("sdot = %v", got)
	}
	if got := BLASDdot([]float64{1, 2}, []float64{3, 4}); got != 11 {
		t.Fatalf("ddot = %v", got)
	}
	BLASSaxpy(2, x, y)
	for i, v := range []float32{7, 8, 9, 10, 11} {
		if y[i] != v {
			t.Fatalf("saxpy y[%d] = %v, want %v", i, y[i], v)
		}
	}
}
