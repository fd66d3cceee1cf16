package goveda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/cpukern"
)

// Tests of the built-in kernels' CPU paths. Every result is checked element by element against
// a sequential reference computed in Go (exact, via math/big, for the sums), on fresh random
// inputs, odd sizes and misaligned slices, with 1, 2 and 4 workers.

var kernSizes = []int{0, 1, 3, 1023, 4097, 1<<20 + 7}

func kernRT(t testing.TB, workers int, p Policy) *Runtime {
	t.Helper()
	rt, err := New(Config{Workers: workers, Policy: p, DisableGPU: true}) // the CPU kernels; devices: devices_test.go
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

func kernRand(t testing.TB) *rand.Rand {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 1))
}

// kernF32 returns n random floats in [-1, 1) starting off elements into a fresh buffer, so the
// slice is misaligned for off % 8 != 0.
func kernF32(r *rand.Rand, n, off int) []float32 {
	buf := make([]float32, n+off)
	for i := range buf {
		buf[i] = float32(r.Float64()*2 - 1)
	}
	return buf[off : off+n : off+n]
}

func kernF64(r *rand.Rand, n, off int) []float64 {
	buf := make([]float64, n+off)
	for i := range buf {
		// a wide exponent range makes the compensation matter
		buf[i] = (r.Float64()*2 - 1) * math.Ldexp(1, r.IntN(40)-20)
	}
	return buf[off : off+n : off+n]
}

// exactSum returns the exactly rounded sum of vals.
func exactSum(vals func(yield func(float64) bool)) float64 {
	acc := new(big.Float).SetPrec(2048)
	v := new(big.Float).SetPrec(2048)
	for x := range vals {
		acc.Add(acc, v.SetFloat64(x))
	}
	f, _ := acc.Float64()
	return f
}

func checkSum(t *testing.T, what string, got, want float64, tol float64) {
	t.Helper()
	if d := math.Abs(got - want); d > tol*math.Abs(want) && d > 1e-300 {
		t.Fatalf("%s: got %.17g, exact %.17g, relative error %.3g > %.1g", what, got, want, d/math.Abs(want), tol)
	}
}

func TestKernelSaxpy(t *testing.T) {
	r := kernRand(t)
	for _, workers := range []int{1, 2, 4} {
		rt := kernRT(t, workers, PolicyAdaptive)
		for _, n := range kernSizes {
			for _, off := range []int{0, 1, 3} {
				t.Run(fmt.Sprintf("w%d/n%d/off%d", workers, n, off), func(t *testing.T) {
					a := float32(r.Float64()*4 - 2)
					x := kernF32(r, n, off)
					y := kernF32(r, n, (off+1)%4)
					want := make([]float32, n)
					for i := range want {
						want[i] = a*x[i] + y[i]
					}
					if err := rt.Saxpy(context.Background(), a, x, y); err != nil {
						t.Fatal(err)
					}
					for i := range want {
						// the AVX2 copy fuses a*x+y: allow one rounding of difference
						tol := 2e-7 * (math.Abs(float64(a*x[i])) + math.Abs(float64(want[i])))
						if d := math.Abs(float64(y[i] - want[i])); d > tol {
							t.Fatalf("y[%d] = %g, want %g", i, y[i], want[i])
						}
					}
				})
			}
		}
		t.Run(fmt.Sprintf("w%d/alias", workers), func(t *testing.T) {
			y := kernF32(r, 1<<17+5, 1)
			want := make([]float32, len(y))
			for i := range y {
				want[i] = 3*y[i] + y[i]
			}
			if err := rt.Saxpy(context.Background(), 3, y, y); err != nil {
				t.Fatal(err)
			}
			for i := range y {
				if math.Abs(float64(y[i]-want[i])) > 1e-6*math.Abs(float64(want[i])) {
					t.Fatalf("y[%d] = %g, want %g", i, y[i], want[i])
				}
			}
		})
	}
}

func TestKernelSums(t *testing.T) {
	r := kernRand(t)
	ctx := context.Background()
	for _, workers := range []int{1, 2, 4} {
		rt := kernRT(t, workers, PolicyAdaptive)
		for _, n := range kernSizes {
			off := n % 3
			t.Run(fmt.Sprintf("w%d/n%d", workers, n), func(t *testing.T) {
				x64 := kernF64(r, n, off)
				got, err := rt.SumF64(ctx, x64)
				if err != nil {
					t.Fatal(err)
				}
				checkSum(t, "SumF64", got, exactSum(func(y func(float64) bool) {
					for _, v := range x64 {
						y(v)
					}
				}), 1e-14)

				x32 := kernF32(r, n, off+1)
				y32 := kernF32(r, n, off)
				got, err = rt.SumF32(ctx, x32)
				if err != nil {
					t.Fatal(err)
				}
				checkSum(t, "SumF32", got, exactSum(func(y func(float64) bool) {
					for _, v := range x32 {
						y(float64(v))
					}
				}), 1e-14)

				got, err = rt.DotF32(ctx, x32, y32)
				if err != nil {
					t.Fatal(err)
				}
				checkSum(t, "DotF32", got, exactSum(func(y func(float64) bool) {
					for i := range x32 {
						y(float64(x32[i]) * float64(y32[i]))
					}
				}), 1e-14)
			})
		}
	}
}

// TestKernelSumCancellation: huge terms that cancel, where a plain or pairwise sum loses
// every digit of the answer.
func TestKernelSumCancellation(t *testing.T) {
	rt := kernRT(t, 2, PolicyAdaptive)
	r := kernRand(t)
	n := 3*sumBlock + 11
	x := make([]float64, n)
	for i := 0; i < n-1; i += 2 {
		big := math.Ldexp(r.Float64(), 60)
		x[i], x[i+1] = big, -big
	}
	for i := 0; i < n; i += 7 {
		x[(i*31)%n] += 1 // the only part that survives
	}
	got, err := rt.SumF64(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	want := exactSum(func(y func(float64) bool) {
		for _, v := range x {
			y(v)
		}
	})
	checkSum(t, "SumF64", got, want, 1e-12)
	var plain float64
	for _, v := range x {
		plain += v
	}
	t.Logf("compensated %.17g, exact %.17g, plain loop %.17g", got, want, plain)
}

// TestKernelSumDeterministic: bit-identical across runs, worker counts, policies and the two
// ISA copies of the C kernels.
func TestKernelSumDeterministic(t *testing.T) {
	r := kernRand(t)
	ctx := context.Background()
	n := 1<<20 + 7
	x64 := kernF64(r, n, 1)
	x32 := kernF32(r, n, 1)
	y32 := kernF32(r, n, 2)
	type res struct{ s64, s32, dot, strided uint64 }
	run := func(rt *Runtime) res {
		var out res
		s, err := rt.SumF64(ctx, x64)
		if err != nil {
			t.Fatal(err)
		}
		out.s64 = math.Float64bits(s)
		if s, err = rt.SumF32(ctx, x32); err != nil {
			t.Fatal(err)
		}
		out.s32 = math.Float64bits(s)
		if s, err = rt.DotF32(ctx, x32, y32); err != nil {
			t.Fatal(err)
		}
		out.dot = math.Float64bits(s)
		if s, err = rt.SumF64Strided(ctx, unsafe.Pointer(&x64[0]), []int{n / 3}, []int{24}); err != nil {
			t.Fatal(err)
		}
		out.strided = math.Float64bits(s)
		return out
	}
	var first *res
	isas := []int{-1, 0}
	if cpukern.ISA() == 0 {
		isas = []int{-1}
	}
	defer cpukern.ForceISA(-1)
	for _, isa := range isas {
		cpukern.ForceISA(isa)
		for _, p := range []Policy{PolicyAdaptive, PolicyDeterministic} {
			for _, w := range []int{1, 2, 4} {
				rt := kernRT(t, w, p)
				for rep := 0; rep < 2; rep++ {
					got := run(rt)
					if first == nil {
						first = &got
					} else if got != *first {
						t.Fatalf("isa %d policy %v workers %d rep %d: %+v, first run %+v", isa, p, w, rep, got, *first)
					}
				}
			}
		}
	}
}

func TestKernelSumStrided(t *testing.T) {
	r := kernRand(t)
	ctx := context.Background()
	rt := kernRT(t, 2, PolicyAdaptive)
	const rows, cols = 301, 257 // 77357 elements: several blocks
	a64 := kernF64(r, rows*cols, 1)
	a32 := kernF32(r, rows*cols, 1)
	p64, p32 := unsafe.Pointer(&a64[0]), unsafe.Pointer(&a32[0])
	type view struct {
		name          string
		off           int // in elements
		shape, stride []int
	}
	views := []view{
		{"contig", 0, []int{rows, cols}, []int{cols, 1}},
		{"transposed", 0, []int{cols, rows}, []int{1, cols}},
		{"column", 5, []int{rows}, []int{cols}},
		{"column2d", 5, []int{rows, 1}, []int{cols, 1}},
		{"every2nd", 1, []int{rows, cols / 2}, []int{cols, 2}},
		{"reversed", rows*cols - 1, []int{rows * cols}, []int{-1}},
		{"revrows", (rows - 1) * cols, []int{rows, cols}, []int{-cols, 1}},
		{"3d", 3, []int{7, 10, 13}, []int{-cols * 3, 20, 3}}, // negative outer stride from offset 3
		{"broadcast", 2, []int{4, 1000}, []int{0, 1}},
		{"scalar", 9, []int{}, []int{}},
		{"empty", 0, []int{3, 0, 5}, []int{0, 0, 0}},
		{"subblock", 10, []int{100, 100}, []int{cols, 1}},
	}
	views[7].off = 6*3*cols + 3 // so that the negative stride stays inside the array
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			// gather the addressed elements in Go (strides here are in elements)
			var idx []int
			var walk func(d, at int)
			walk = func(d, at int) {
				if d == len(v.shape) {
					idx = append(idx, at)
					return
				}
				for i := 0; i < v.shape[d]; i++ {
					walk(d+1, at+i*v.stride[d])
				}
			}
			walk(0, v.off)
			for _, e := range []struct {
				size int
				base unsafe.Pointer
				sum  func(context.Context, unsafe.Pointer, []int, []int) (float64, error)
				elem func(i int) float64
			}{
				{8, p64, rt.SumF64Strided, func(i int) float64 { return a64[i] }},
				{4, p32, rt.SumF32Strided, func(i int) float64 { return float64(a32[i]) }},
			} {
				bytes := make([]int, len(v.stride))
				for i, s := range v.stride {
					bytes[i] = s * e.size
				}
				got, err := e.sum(ctx, unsafe.Add(e.base, v.off*e.size), v.shape, bytes)
				if err != nil {
					t.Fatal(err)
				}
				want := exactSum(func(y func(float64) bool) {
					for _, i := range idx {
						y(e.elem(i))
					}
				})
				if len(idx) == 0 {
					if got != 0 {
						t.Fatalf("empty view summed to %g", got)
					}
					continue
				}
				checkSum(t, fmt.Sprintf("%d-byte %s", e.size, v.name), got, want, 1e-14)
			}
		})
	}
	// a contiguous layout (after normalisation) gives exactly SumF64 of the same memory
	want, _ := rt.SumF64(ctx, a64)
	got, err := rt.SumF64Strided(ctx, p64, []int{rows, 1, cols}, []int{cols * 8, 12345, 8})
	if err != nil || got != want {
		t.Fatalf("contiguous strided sum %v (%v), SumF64 %v", got, err, want)
	}
}

// sgemmRef is C = alpha*A*B + beta*C accumulated in float64, and a bound on its rounding error.
func sgemmRef(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32,
	c []float32, ldc int) (want, tol []float64) {
	want = make([]float64, len(c))
	tol = make([]float64, len(c))
	for i := range c {
		want[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				v := float64(a[i*lda+p]) * float64(b[p*ldb+j])
				s += v
				sa += math.Abs(v)
			}
			cij := float64(c[i*ldc+j])
			if beta == 0 {
				cij = 0
			}
			if alpha == 0 {
				s, sa = 0, 0
			}
			want[i*ldc+j] = float64(alpha)*s + float64(beta)*cij
			tol[i*ldc+j] = 1e-6*float64(k+4)*(math.Abs(float64(alpha))*sa+math.Abs(float64(beta)*cij)) + 1e-30
		}
	}
	return want, tol
}

func TestKernelSgemm(t *testing.T) {
	r := kernRand(t)
	ctx := context.Background()
	type tc struct{ m, n, k, padA, padB, padC int }
	cases := []tc{
		{0, 0, 0, 0, 0, 0}, {0, 5, 3, 0, 0, 0}, {4, 0, 3, 0, 0, 0}, {3, 4, 0, 0, 0, 1},
		{1, 1, 1, 0, 0, 0}, {7, 13, 5, 1, 2, 3}, {6, 16, 8, 0, 0, 0}, {100, 70, 300, 3, 0, 5},
		{150, 37, 257, 0, 9, 0}, {145, 33, 513, 2, 2, 2}, {300, 300, 300, 1, 1, 1}, {257, 1031, 129, 0, 3, 7},
	}
	scalars := []struct{ alpha, beta float32 }{{1, 0}, {2.5, -0.5}, {0, 2}, {1, 1}, {-1, 0.25}}
	isas := []int{-1, 0}
	if cpukern.ISA() == 0 {
		isas = []int{-1}
	}
	defer cpukern.ForceISA(-1)
	for _, workers := range []int{1, 2, 4} {
		rt := kernRT(t, workers, PolicyAdaptive)
		for _, c := range cases {
			for si, s := range scalars {
				if c.m*c.n*c.k > 5_000_000 && (workers != 2 || si > 1) {
					continue // the float64 reference is slow under -race; big shapes run once per ISA path
				}
				isa := isas[(si+workers)%len(isas)]
				name := fmt.Sprintf("w%d/%dx%dx%d/pad%d.%d.%d/a%g_b%g/isa%d", workers, c.m, c.n, c.k, c.padA, c.padB, c.padC, s.alpha, s.beta, isa)
				t.Run(name, func(t *testing.T) {
					cpukern.ForceISA(isa)
					lda, ldb, ldc := max(c.k, 1)+c.padA, max(c.n, 1)+c.padB, max(c.n, 1)+c.padC // veda.h: ld >= max(1, cols)
					a := kernF32(r, c.m*lda, 1)
					b := kernF32(r, c.k*ldb, 2)
					cm := kernF32(r, c.m*ldc, 3)
					if s.beta == 0 && len(cm) > 0 {
						for i := 0; i < c.m; i++ { // NaN must be overwritten when beta == 0
							for j := 0; j < c.n; j += 3 {
								cm[i*ldc+j] = float32(math.NaN())
							}
						}
					}
					orig := append([]float32(nil), cm...)
					want, tol := sgemmRef(c.m, c.n, c.k, s.alpha, a, lda, b, ldb, s.beta, cm, ldc)
					if err := rt.Sgemm(ctx, c.m, c.n, c.k, s.alpha, a, lda, b, ldb, s.beta, cm, ldc); err != nil {
						t.Fatal(err)
					}
					for i := 0; i < c.m; i++ {
						for j := 0; j < ldc; j++ {
							at := i*ldc + j
							if j >= c.n { // padding of C is untouched
								if math.Float32bits(cm[at]) != math.Float32bits(orig[at]) {
									t.Fatalf("padding C[%d][%d] changed", i, j)
								}
								continue
							}
							if d := math.Abs(float64(cm[at]) - want[at]); !(d <= tol[at]) {
								t.Fatalf("C[%d][%d] = %g, want %g (tol %g)", i, j, cm[at], want[at], tol[at])
							}
						}
					}
				})
			}
		}
	}
}

// TestKernelSgemmWorkers: each element of C is computed in the same order whatever the tiling.
func TestKernelSgemmWorkers(t *testing.T) {
	r := kernRand(t)
	m, n, k := 333, 517, 281
	a, b, c0 := kernF32(r, m*k, 0), kernF32(r, k*n, 1), kernF32(r, m*n, 0)
	var first []float32
	for _, w := range []int{1, 2, 4} {
		rt := kernRT(t, w, PolicyAdaptive)
		c := append([]float32(nil), c0...)
		if err := rt.Sgemm(context.Background(), m, n, k, 1.5, a, k, b, n, 0.5, c, n); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c
			continue
		}
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
				t.Fatalf("workers %d: C[%d] = %g, workers 1: %g", w, i, c[i], first[i])
			}
		}
	}
}

func TestKernelSgemmTiles(t *testing.T) {
	for _, c := range []struct{ m, n, w int }{{1024, 1024, 2}, {512, 512, 2}, {7, 5000, 4}, {5000, 3, 1}, {200, 200, 16}, {1, 1, 2}} {
		tm, tn := sgemmTiles(c.m, c.n, c.w)
		if tm%cpukern.SgemmMR != 0 || tn%cpukern.SgemmNR != 0 || tm <= 0 || tn <= 0 {
			t.Fatalf("%v: tile %dx%d not a multiple of the micro-tile", c, tm, tn)
		}
		tiles := ceilDiv(c.m, tm) * ceilDiv(c.n, tn)
		if c.w > 1 && tiles < c.w && c.m >= c.w*cpukern.SgemmMR {
			t.Fatalf("%v: %d tiles for %d workers", c, tiles, c.w)
		}
		t.Logf("%dx%d on %d workers: tiles %dx%d, %d tiles", c.m, c.n, c.w, tm, tn, tiles)
	}
}

func TestKernelBadArguments(t *testing.T) {
	rt := kernRT(t, 2, PolicyAdaptive)
	ctx := context.Background()
	f := make([]float32, 100)
	d := make([]float64, 4)
	cases := []struct {
		name, want string
		call       func() error
	}{
		{"saxpy len", "len(x)", func() error { return rt.Saxpy(ctx, 1, f[:3], f[3:5]) }},
		{"saxpy overlap", "overlap", func() error { return rt.Saxpy(ctx, 1, f[:10], f[5:15]) }},
		{"dot len", "len(x)", func() error { _, err := rt.DotF32(ctx, f[:3], f[:4]); return err }},
		{"sgemm m", "m is -1", func() error { return rt.Sgemm(ctx, -1, 2, 2, 1, f, 2, f, 2, 0, f, 2) }},
		{"sgemm n", "n is -2", func() error { return rt.Sgemm(ctx, 2, -2, 2, 1, f, 2, f, 2, 0, f, 2) }},
		{"sgemm k", "k is -3", func() error { return rt.Sgemm(ctx, 2, 2, -3, 1, f, 2, f, 2, 0, f, 2) }},
		{"sgemm lda", "lda", func() error { return rt.Sgemm(ctx, 2, 2, 3, 1, f, 2, f, 2, 0, f, 2) }},
		{"sgemm ldb", "ldb", func() error { return rt.Sgemm(ctx, 2, 3, 2, 1, f, 2, f, 2, 0, f, 3) }},
		{"sgemm ldc", "ldc", func() error { return rt.Sgemm(ctx, 2, 3, 2, 1, f, 2, f, 3, 0, f, 2) }},
		{"sgemm short a", "len(a)", func() error { return rt.Sgemm(ctx, 20, 2, 10, 1, f, 10, f, 2, 0, f, 2) }},
		{"sgemm short b", "len(b)", func() error { return rt.Sgemm(ctx, 2, 20, 10, 1, f, 10, f, 20, 0, f, 20) }},
		{"sgemm short c", "len(c)", func() error { return rt.Sgemm(ctx, 20, 10, 1, 1, f, 1, f, 10, 0, f, 10) }},
		{"sgemm overflow", "overflow", func() error { return rt.Sgemm(ctx, 3, 1, 1, 1, f, math.MaxInt/2+1, f, 1, 0, f, 1) }},
		{"strided dims", "len(shape)", func() error {
			_, err := rt.SumF64Strided(ctx, unsafe.Pointer(&d[0]), []int{2}, []int{8, 8})
			return err
		}},
		{"strided negative", "shape[1]", func() error {
			_, err := rt.SumF64Strided(ctx, unsafe.Pointer(&d[0]), []int{2, -1}, []int{8, 8})
			return err
		}},
		{"strided nil", "base", func() error { _, err := rt.SumF32Strided(ctx, nil, []int{2}, []int{4}); return err }},
		{"strided too many", "dimensions", func() error {
			_, err := rt.SumF64Strided(ctx, unsafe.Pointer(&d[0]), make([]int, 40), make([]int, 40))
			return err
		}},
		{"strided huge", "too many", func() error {
			_, err := rt.SumF64Strided(ctx, unsafe.Pointer(&d[0]), []int{1 << 40, 1 << 40}, []int{0, 0})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrInvalidArgument naming %q", err, c.want)
			}
		})
	}
	// alpha == 0 leaves A and B unread: they may be empty
	c := []float32{1, 2, 3, 4}
	if err := rt.Sgemm(ctx, 2, 2, 5, 0, nil, 5, nil, 2, 2, c, 2); err != nil || c[3] != 8 {
		t.Fatalf("alpha=0 with empty A, B: %v, C %v", err, c)
	}
}

func TestKernelClosedAndCancelled(t *testing.T) {
	rt, err := New(Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := make([]float32, 1<<20)
	if err := rt.Saxpy(ctx, 1, x, x); !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled Saxpy: %v", err)
	}
	if _, err := rt.SumF32(ctx, x[:10]); !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled small SumF32: %v", err)
	}
	_ = rt.Close()
	if _, err := rt.SumF32(context.Background(), x); !errors.Is(err, ErrClosed) {
		t.Fatalf("SumF32 after Close: %v", err)
	}
	if _, err := rt.SumF64(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("empty SumF64 after Close: %v", err)
	}
	if err := rt.Sgemm(context.Background(), 2, 2, 2, 1, x, 2, x, 2, 0, x[100:], 2); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sgemm after Close: %v", err)
	}
}

func ExampleRuntime_SumF64() {
	rt, _ := New(Config{Workers: 2})
	defer rt.Close()
	x := make([]float64, 1_000_001)
	for i := range x {
		x[i] = 0.1
	}
	s, _ := rt.SumF64(context.Background(), x)
	fmt.Printf("%.10f\n", s)
	// Output: 100000.1000000000
}

func ExampleRuntime_Sgemm() {
	rt, _ := New(Config{Workers: 2})
	defer rt.Close()
	a := []float32{1, 2, 3, 4} // 2x2
	b := []float32{5, 6, 7, 8} // 2x2
	c := make([]float32, 4)
	_ = rt.Sgemm(context.Background(), 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [19 22 43 50]
}
