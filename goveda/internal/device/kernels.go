package device

import (
	"fmt"
	"math"
	"unsafe"
)

// Built-in kernel calls, shared by both backends. Each is one batch:
// copies in, launch, copies out, with a Timing.

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func pow2Floor(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

// wg is the 1-D work-group size for the built-ins: 256 on CUDA (the kernels
// assume it), else the largest power of two <= min(256, device max).
func (d *gdev) wg() int {
	if d.info.Kind == KindCUDA {
		return 256
	}
	m := d.info.MaxWorkGroupSize
	if m <= 0 || m > 256 {
		m = 256
	}
	return pow2Floor(m)
}

// reduceGroups is the fixed group count of a reduction over n: a function
// of n and the device only, so the combining order is reproducible.
func (d *gdev) reduceGroups(n int) int {
	cu := max(d.info.ComputeUnits, 1)
	if d.info.Kind == KindCUDA {
		return max(1, min(ceilDiv(n, 256*4), 8*cu))
	}
	return max(1, min(ceilDiv(n, d.wg()), 4*cu, 256))
}

// saxpyPtr computes y = a*x + y for n floats at x and y (any alignment).
func (d *gdev) saxpyPtr(a float32, x, y unsafe.Pointer, n int) (Timing, error) {
	if n < 0 || (n > 0 && (x == nil || y == nil)) {
		return Timing{}, ErrInvalidArgument
	}
	if n == 0 {
		return Timing{}, nil
	}
	k, err := d.builtin("saxpy_f32")
	if err != nil {
		return Timing{}, err
	}
	bytes := int64(n) * 4
	return d.batch(func(get func(int64) (*Buffer, error)) error {
		bx, err := get(bytes)
		if err != nil {
			return err
		}
		by, err := get(bytes)
		if err != nil {
			return err
		}
		if err := d.eng.write(bx, x, bytes); err != nil {
			return err
		}
		if err := d.eng.write(by, y, bytes); err != nil {
			return err
		}
		wg := d.wg()
		items := n
		if d.info.Kind == KindCUDA {
			items = min(ceilDiv(n, 4), 256*65535) // 4 per thread, grid-stride
		}
		args := []karg{scalarOf(int64(n)), scalarOf(a), {buf: bx}, {buf: by}}
		if err := d.eng.launch(k, [3]int{ceilDiv(items, wg) * wg, 1, 1}, [3]int{wg, 1, 1}, args); err != nil {
			return err
		}
		return d.eng.read(y, by, bytes)
	})
}

// Saxpy computes y = a*x + y.
func (d *gdev) Saxpy(a float32, x, y []float32) (Timing, error) {
	if len(x) != len(y) {
		return Timing{}, fmt.Errorf("%w: saxpy: len(x)=%d != len(y)=%d", ErrInvalidArgument, len(x), len(y))
	}
	if len(x) == 0 {
		return Timing{}, nil
	}
	return d.saxpyPtr(a, unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0]), len(x))
}

// reduce runs a sum/dot kernel over n elements of elem bytes at x (and y)
// and adds the group partials on the host in index order.
func (d *gdev) reduce(name string, x, y unsafe.Pointer, n int, elem int64) (float64, Timing, error) {
	if n < 0 || (n > 0 && x == nil) {
		return 0, Timing{}, ErrInvalidArgument
	}
	if n == 0 {
		return 0, Timing{}, nil
	}
	if name == "sum_f64" && !d.info.FP64 {
		return 0, Timing{}, fmt.Errorf("%w: sum_f64 on %s: no fp64 (cl_khr_fp64)", ErrUnsupported, d.info.Name)
	}
	k, err := d.builtin(name)
	if err != nil {
		return 0, Timing{}, err
	}
	groups, wg := d.reduceGroups(n), d.wg()
	partial := make([]float64, groups) // 8 bytes per group: a double, or an OpenCL float2 pair
	bytes := int64(n) * elem
	t, err := d.batch(func(get func(int64) (*Buffer, error)) error {
		bx, err := get(bytes)
		if err != nil {
			return err
		}
		if err := d.eng.write(bx, x, bytes); err != nil {
			return err
		}
		args := []karg{scalarOf(int64(n)), {buf: bx}}
		if y != nil {
			by, err := get(bytes)
			if err != nil {
				return err
			}
			if err := d.eng.write(by, y, bytes); err != nil {
				return err
			}
			args = append(args, karg{buf: by})
		}
		bp, err := get(int64(groups) * 8)
		if err != nil {
			return err
		}
		args = append(args, karg{buf: bp})
		if d.info.Kind == KindOpenCL {
			args = append(args, karg{local: int64(wg) * 8})
		}
		if err := d.eng.launch(k, [3]int{groups * wg, 1, 1}, [3]int{wg, 1, 1}, args); err != nil {
			return err
		}
		return d.eng.read(unsafe.Pointer(&partial[0]), bp, int64(groups)*8)
	})
	if err != nil {
		return 0, t, err
	}
	var s float64
	if d.info.Kind == KindOpenCL && !d.info.FP64 {
		pairs := unsafe.Slice((*float32)(unsafe.Pointer(&partial[0])), 2*groups)
		for i := 0; i < groups; i++ {
			s += float64(pairs[2*i]) + float64(pairs[2*i+1])
		}
	} else {
		for _, p := range partial {
			s += p
		}
	}
	return s, t, nil
}

// sumF32Ptr sums n floats at x (any alignment).
func (d *gdev) sumF32Ptr(x unsafe.Pointer, n int) (float64, Timing, error) {
	return d.reduce("sum_f32", x, nil, n, 4)
}

// sumF64Ptr sums n doubles at x (any alignment).
func (d *gdev) sumF64Ptr(x unsafe.Pointer, n int) (float64, Timing, error) {
	return d.reduce("sum_f64", x, nil, n, 8)
}

// dotF32Ptr returns sum x[i]*y[i] over n floats, accumulated in f64.
func (d *gdev) dotF32Ptr(x, y unsafe.Pointer, n int) (float64, Timing, error) {
	if n > 0 && y == nil {
		return 0, Timing{}, ErrInvalidArgument
	}
	return d.reduce("dot_f32", x, y, n, 4)
}

// SumF32 sums x.
func (d *gdev) SumF32(x []float32) (float64, Timing, error) {
	if len(x) == 0 {
		return 0, Timing{}, nil
	}
	return d.sumF32Ptr(unsafe.Pointer(&x[0]), len(x))
}

// SumF64 sums x; ErrUnsupported on a device without fp64.
func (d *gdev) SumF64(x []float64) (float64, Timing, error) {
	if len(x) == 0 {
		if !d.info.FP64 {
			return 0, Timing{}, ErrUnsupported
		}
		return 0, Timing{}, nil
	}
	return d.sumF64Ptr(unsafe.Pointer(&x[0]), len(x))
}

// DotF32 returns the dot product of x and y.
func (d *gdev) DotF32(x, y []float32) (float64, Timing, error) {
	if len(x) != len(y) {
		return 0, Timing{}, fmt.Errorf("%w: dot: len(x)=%d != len(y)=%d", ErrInvalidArgument, len(x), len(y))
	}
	if len(x) == 0 {
		return 0, Timing{}, nil
	}
	return d.dotF32Ptr(unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0]), len(x))
}

// span is the number of elements a row-major rows x cols matrix with
// leading dimension ld occupies.
func span(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// Sgemm computes C = alpha*A*B + beta*C (row-major; A m x k, B k x n, C m x
// n with leading dimensions lda, ldb, ldc). beta == 0 never reads C.
func (d *gdev) Sgemm(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (Timing, error) {
	return d.sgemm(false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Vendor returns the vendor library that implements kernel on this device ("clblast",
// "cublas"), or "" (VEDA's kernel only). Loading the library happens on the first call.
func (d *gdev) Vendor(kernel string) string { return vendorFor(d.info, kernel) }

// SgemmVendor is Sgemm through the device's vendor BLAS (Vendor("sgemm")); ErrUnsupported
// when there is none.
func (d *gdev) SgemmVendor(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (Timing, error) {
	if d.Vendor("sgemm") == "" {
		return Timing{}, fmt.Errorf("%w: no vendor sgemm on %s", ErrUnsupported, d.info.Name)
	}
	return d.sgemm(true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (d *gdev) sgemm(vendor bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (Timing, error) {
	if m < 0 || n < 0 || k < 0 || lda < max(k, 1) || ldb < max(n, 1) || ldc < max(n, 1) ||
		len(a) < span(m, k, lda) || len(b) < span(k, n, ldb) || len(c) < span(m, n, ldc) ||
		m > math.MaxInt32 || n > math.MaxInt32 || k > math.MaxInt32 || lda > math.MaxInt32 || ldb > math.MaxInt32 || ldc > math.MaxInt32 {
		return Timing{}, fmt.Errorf("%w: sgemm m=%d n=%d k=%d lda=%d ldb=%d ldc=%d len(a)=%d len(b)=%d len(c)=%d",
			ErrInvalidArgument, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	}
	if m == 0 || n == 0 {
		return Timing{}, nil
	}
	var kern *kfunc
	if !vendor {
		if d.info.MaxWorkGroupSize > 0 && d.info.MaxWorkGroupSize < 256 {
			return Timing{}, fmt.Errorf("%w: sgemm needs work-groups of 256", ErrUnsupported)
		}
		var err error
		if kern, err = d.builtin("sgemm_f32"); err != nil {
			return Timing{}, err
		}
	}
	as, bs, cs := int64(span(m, k, lda))*4, int64(span(k, n, ldb))*4, int64(span(m, n, ldc))*4
	return d.batch(func(get func(int64) (*Buffer, error)) error {
		ba, err := get(as)
		if err != nil {
			return err
		}
		bb, err := get(bs)
		if err != nil {
			return err
		}
		bc, err := get(cs)
		if err != nil {
			return err
		}
		if as > 0 {
			if err := d.eng.write(ba, unsafe.Pointer(&a[0]), as); err != nil {
				return err
			}
		}
		if bs > 0 {
			if err := d.eng.write(bb, unsafe.Pointer(&b[0]), bs); err != nil {
				return err
			}
		}
		// C goes in when it is read (beta != 0) or when rows have gaps that
		// must come back unchanged (ldc > n).
		// CLBlast reads C even when beta == 0 (a pooled buffer may hold NaN), so it goes in then too.
		if beta != 0 || ldc != n || (vendor && d.info.Kind == KindOpenCL) {
			if err := d.eng.write(bc, unsafe.Pointer(&c[0]), cs); err != nil {
				return err
			}
		}
		if vendor {
			if err := d.eng.vendorSgemm(m, n, k, alpha, ba, lda, bb, ldb, beta, bc, ldc); err != nil {
				return err
			}
			return d.eng.read(unsafe.Pointer(&c[0]), bc, cs)
		}
		args := []karg{scalarOf(int32(m)), scalarOf(int32(n)), scalarOf(int32(k)), scalarOf(alpha),
			{buf: ba}, scalarOf(int32(lda)), {buf: bb}, scalarOf(int32(ldb)), scalarOf(beta), {buf: bc}, scalarOf(int32(ldc))}
		var global, local [3]int
		if d.info.Kind == KindCUDA {
			global, local = [3]int{ceilDiv(n, 64) * 256, ceilDiv(m, 64), 1}, [3]int{256, 1, 1}
		} else {
			global, local = [3]int{ceilDiv(n, 16) * 16, ceilDiv(m, 16) * 16, 1}, [3]int{16, 16, 1}
		}
		if err := d.eng.launch(kern, global, local, args); err != nil {
			return err
		}
		return d.eng.read(unsafe.Pointer(&c[0]), bc, cs)
	})
}
