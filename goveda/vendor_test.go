package goveda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/cpukern"
	"github.com/veda-runtime/veda/goveda/internal/device"
)

// Both implementations of sgemm on the CPU (VEDA's and the vendor BLAS) are measured and give
// the reference result on every call, whichever the chooser picks.
func TestSgemmVendorImplementationsMeasuredAndCorrect(t *testing.T) {
	if b := device.BLAS(); !b.Found {
		t.Skipf("no CPU BLAS: %s", b.Why)
	}
	rt := newRT(t, Config{Workers: 2, DisableGPU: true})
	r := rand.New(rand.NewPCG(3, 4))
	const m, n, k = 130, 97, 150 // tiles with ragged edges; above the inline limit
	a := make([]float32, m*(k+1))
	b := make([]float32, k*(n+2))
	for i := range a {
		a[i] = r.Float32() - 0.5
	}
	for i := range b {
		b[i] = r.Float32() - 0.5
	}
	c0 := make([]float32, m*(n+3))
	for i := range c0 {
		c0[i] = r.Float32()
	}
	want := append([]float32(nil), c0...)
	cpukern.SgemmNaive(m, n, k, 1.25, a, k+1, b, n+2, 0.5, want, n+3)
	for call := 0; call < 8; call++ {
		c := append([]float32(nil), c0...)
		if err := rt.Sgemm(context.Background(), m, n, k, 1.25, a, k+1, b, n+2, 0.5, c, n+3); err != nil {
			t.Fatal(err)
		}
		for i := range c {
			if math.Abs(float64(c[i]-want[i])) > 1e-3 {
				t.Fatalf("call %d: c[%d] = %v, want %v", call, i, c[i], want[i])
			}
		}
	}
	seen := map[string]uint64{}
	for _, s := range rt.ImplStats() {
		if s.Kernel == "sgemm" && s.Device == 0 {
			seen[s.Impl] += s.Samples
		}
	}
	if seen["veda"] < 2 || seen["openblas"]+seen["blis"]+seen["mkl"] < 2 {
		t.Fatalf("implementations not both measured: %v", seen)
	}
	libs := rt.VendorLibraries()
	if len(libs) != 3 || libs[0].Name != "blas" || !libs[0].Found || libs[1].Name != "cublas" || libs[2].Name != "clblast" {
		t.Fatalf("vendor libraries: %+v", libs)
	}
	for _, l := range libs {
		if !l.Found && l.Why == "" {
			t.Fatalf("%s absent without a reason", l.Name)
		}
	}
}

// Under PolicyDeterministic only VEDA's kernels run: the result is bit-identical to a
// one-worker run and no vendor implementation is measured.
func TestSgemmDeterministicKeepsOwnKernel(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, Policy: PolicyDeterministic, DisableGPU: true})
	const m, n, k = 96, 80, 200
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%13) - 6
	}
	for i := range b {
		b[i] = float32(i%7)*0.25 - 1
	}
	c := make([]float32, m*n)
	for i := 0; i < 4; i++ {
		if err := rt.Sgemm(context.Background(), m, n, k, 1, a, k, b, n, 0, c, n); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]float32, m*n)
	cpukern.SgemmTile(k, 1, a, k, b, n, 0, want, n, 0, m, 0, n)
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("c[%d] = %v, want %v bit-identical", i, c[i], want[i])
		}
	}
	if st := rt.ImplStats(); len(st) != 0 {
		t.Fatalf("deterministic runtime measured vendor implementations: %+v", st)
	}
	for _, l := range rt.VendorLibraries() {
		if l.Found && l.Why == "" {
			t.Fatalf("%s found but deterministic policy does not say it is unused", l.Name)
		}
	}
}

func TestSaxpyVendorAndOwnAgree(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, DisableGPU: true})
	const n = 200_000
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%1000) * 0.5
	}
	for call := 0; call < 6; call++ {
		y := make([]float32, n)
		for i := range y {
			y[i] = 1
		}
		if err := rt.Saxpy(context.Background(), 2, x, y); err != nil {
			t.Fatal(err)
		}
		for i := range y {
			if y[i] != 2*x[i]+1 { // exact in float32 for these values
				t.Fatalf("call %d: y[%d] = %v", call, i, y[i])
			}
		}
	}
}
