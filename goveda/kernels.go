package goveda

import (
	"context"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/cpukern"
	"github.com/veda-runtime/veda/goveda/internal/device"
)

// Built-in kernels. Each public method checks its arguments and hands the call to the dispatcher
// (devices.go: runKernel), which runs it on a device or on the CPU path named <kernel>CPU. The CPU paths run per-chunk C
// kernels (csrc/cpu_kernels.c, through internal/cpukern) in parallel with ParallelFor.
//
// Sums are deterministic under every policy: the input is cut into blocks of sumBlock elements
// (a function of n only), each block gets a compensated (TwoSum, 16-lane) sum in C, and the
// per-block double-double partials are combined pairwise in a fixed tree. The result is
// therefore bit-identical across runs, worker counts, and the ISA copy the C code runs.

const (
	// sumBlock is the number of elements per deterministic block (128 KiB of float64).
	sumBlock = 1 << 14
	// sumGrainBlocks is the ParallelFor grain of the sums, in blocks (a chunk is ~0.5 MiB).
	sumGrainBlocks = 4
	// sumSeqBlocks: inputs of at most this many blocks are summed on the calling goroutine.
	sumSeqBlocks = 4
	// saxpyGrain is the ParallelFor grain of Saxpy, in elements; saxpySeq the largest n run on
	// the calling goroutine.
	saxpyGrain = 1 << 15
	saxpySeq   = 1 << 16
	// sgemmSeqFlops: products of at most this many flops run on the calling goroutine.
	sgemmSeqFlops = 1 << 21
	// maxStridedDims bounds the dimensions of the strided sums: the C kernel's limit.
	maxStridedDims = cpukern.MaxDims
)

// MaxStridedDims is the most dimensions SumStridedF64/F32 (and veda_sum_*_strided) accept: 32,
// the C kernel's limit (numpy's is 64).
const MaxStridedDims = maxStridedDims

// Saxpy computes y[i] = a*x[i] + y[i] for every i, in parallel, in place on y.
//
// Errors: len(x) != len(y), or x and y overlapping without being the same slice, wrap
// ErrInvalidArgument; a closed runtime gives ErrClosed; ctx cancellation wraps ErrCancelled
// (y may then be partly updated). Any goroutine; blocks until done. Cost: memory bound, about
// 12 bytes per element; inputs up to 64 Ki elements run on the calling goroutine.
func (rt *Runtime) Saxpy(ctx context.Context, a float32, x, y []float32) error {
	if len(x) != len(y) {
		return invalidf("Saxpy: len(x) is %d, len(y) is %d; they must be equal", len(x), len(y))
	}
	if partialOverlap(x, y) {
		return invalidf("Saxpy: x and y overlap (only x == y is allowed)")
	}
	n := len(y)
	return rt.runKernel(ctx, &kcall{name: "saxpy_f32", bytes: bytesOf(n, 12), elems: uint64(n), transfer: bytesOf(n, 12),
		cpu: func() error { return rt.saxpyCPU(ctx, a, x, y) },
		dev: func(d device.Device) (device.Timing, error) { return d.Saxpy(a, x, y) }})
}

// SumF64 returns the sum of x, deterministic and compensated: within a few ulps of the exact
// sum for any input without overflow (error about eps*|sum| + 2^14*eps^2*sum|x|). Bit-identical
// across runs and worker counts. An empty x sums to 0.
//
// Errors: ErrClosed, or ErrCancelled on ctx cancellation. Any goroutine; blocks. Cost: memory
// bound (about 30 ms for 1e8 elements on one core of an AVX2 machine); one partial per
// 16 Ki elements.
func (rt *Runtime) SumF64(ctx context.Context, x []float64) (float64, error) {
	var r float64
	n := len(x)
	err := rt.runKernel(ctx, &kcall{name: "sum_f64", bytes: bytesOf(n, 8), elems: uint64(n), transfer: bytesOf(n, 8), fp64: true,
		cpu: func() (err error) { r, err = rt.sumF64CPU(ctx, x); return },
		dev: func(d device.Device) (t device.Timing, err error) { r, t, err = d.SumF64(x); return }})
	return r, err
}

// SumF32 returns the sum of x accumulated in float64, as SumF64 does (each element is widened
// exactly to float64 first).
func (rt *Runtime) SumF32(ctx context.Context, x []float32) (float64, error) {
	var r float64
	n := len(x)
	err := rt.runKernel(ctx, &kcall{name: "sum_f32", bytes: bytesOf(n, 4), elems: uint64(n), transfer: bytesOf(n, 4),
		cpu: func() (err error) { r, err = rt.sumF32CPU(ctx, x); return },
		dev: func(d device.Device) (t device.Timing, err error) { r, t, err = d.SumF32(x); return }})
	return r, err
}

// DotF32 returns the sum of x[i]*y[i] accumulated in float64: the products are exact in float64
// and summed as SumF64 does, so the result is deterministic and nearly exact.
//
// Errors: len(x) != len(y) wraps ErrInvalidArgument; otherwise as SumF64.
func (rt *Runtime) DotF32(ctx context.Context, x, y []float32) (float64, error) {
	if len(x) != len(y) {
		return 0, invalidf("DotF32: len(x) is %d, len(y) is %d; they must be equal", len(x), len(y))
	}
	var r float64
	n := len(x)
	err := rt.runKernel(ctx, &kcall{name: "dot_f32", bytes: bytesOf(n, 8), elems: uint64(n), transfer: bytesOf(n, 8),
		cpu: func() (err error) { r, err = rt.dotF32CPU(ctx, x, y); return },
		dev: func(d device.Device) (t device.Timing, err error) { r, t, err = d.DotF32(x, y); return }})
	return r, err
}

// Sgemm computes C = alpha*A*B + beta*C for row-major A (m x k, row stride lda), B (k x n, row
// stride ldb) and C (m x n, row stride ldc), in parallel over tiles of C, with a cache-blocked
// register-tiled C kernel (AVX2+FMA where the CPU has it). As in BLAS, beta == 0 overwrites C
// without reading it (NaN included), and alpha == 0 or k == 0 leaves A and B unread (they may
// then be empty). Each element of C is computed in the same order whatever the tiling, so the
// result is bit-identical across worker counts.
//
// Errors wrapping ErrInvalidArgument name the argument (the rules are SgemmSpans'): negative m,
// n or k; lda < max(1, k), ldb < max(1, n), ldc < max(1, n); a, b or c shorter than the matrix
// it holds (a and b are not checked when they are not read). ErrOutOfMemory if the packing buffers
// cannot be allocated; ErrClosed; ErrCancelled (C may then be partly updated). Any goroutine;
// blocks. Cost: 2*m*n*k flops; products up to 2 Mflop run on the calling goroutine.
func (rt *Runtime) Sgemm(ctx context.Context, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if err := checkSgemm("Sgemm", m, n, k, alpha, a, lda, b, ldb, c, ldc); err != nil {
		return err
	}
	// The cost model's size is the bytes of A, B and C; the flops (2mnk) grow faster, so
	// the size buckets separate shapes well enough for square-ish products.
	ab := bytesOf(m*k+k*n, 4)
	cb := bytesOf(m*n, 4)
	cin := cb
	if beta == 0 {
		cin = 0
	}
	var dev func(d device.Device) (device.Timing, error)
	if m > 0 && n > 0 && k > 0 && alpha != 0 {
		dev = func(d device.Device) (device.Timing, error) {
			return rt.sgemmDevice(d, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
	}
	return rt.runKernel(ctx, &kcall{name: "sgemm", bytes: ab + cb, elems: uint64(m) * uint64(n), transfer: ab + cin + cb,
		cpu: func() error { return rt.sgemmCPU(ctx, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) },
		dev: dev})
}

// SumF64Strided returns the sum of the float64 array at base with the given shape and strides
// in bytes (any sign, zero included), such as a non-contiguous numpy view, without copying it.
// The sum is compensated and deterministic (it depends only on the set of addresses and the
// shape, not on workers); a layout that is contiguous after reordering and merging dimensions
// gives exactly SumF64 of that memory. len(shape) == 0 means one element at base.
//
// base must stay valid for every addressed element during the call; the function cannot check
// that. Errors wrapping ErrInvalidArgument: len(shape) != len(strides), more than 32 dimensions,
// a negative extent, an element count that overflows, or a nil base with a non-empty shape.
func (rt *Runtime) SumF64Strided(ctx context.Context, base unsafe.Pointer, shape, strides []int) (float64, error) {
	return rt.sumStridedCPU(ctx, "SumF64Strided", base, cpukern.KindF64, shape, strides)
}

// SumF32Strided is SumF64Strided for float32 elements (accumulated in float64).
func (rt *Runtime) SumF32Strided(ctx context.Context, base unsafe.Pointer, shape, strides []int) (float64, error) {
	return rt.sumStridedCPU(ctx, "SumF32Strided", base, cpukern.KindF32, shape, strides)
}

// ---------------------------------------------------------------- CPU paths

// runInline runs f on the calling goroutine as one unit of outside work (small inputs, where a
// ParallelFor wake-up would cost more than the work). Any goroutine.
func (rt *Runtime) runInline(ctx context.Context, f func()) error {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return ctxErr(ctx)
		}
	}
	if err := rt.enter(); err != nil {
		return err
	}
	defer rt.exit()
	f()
	return nil
}

// saxpyCPU is the CPU path of Saxpy; arguments are checked.
func (rt *Runtime) saxpyCPU(ctx context.Context, a float32, x, y []float32) error {
	n := len(y)
	kern := cpukern.Saxpy
	if vendor := rt.blasName(); vendor != "" && n > 0 && device.BLASFits(n) {
		impls := [2]string{"veda", vendor}
		return rt.withImpl("saxpy_f32", float64(n), impls[:], func(idx int) error {
			if idx == 1 {
				return rt.saxpyWith(ctx, device.BLASSaxpy, a, x, y)
			}
			return rt.saxpyWith(ctx, kern, a, x, y)
		})
	}
	return rt.saxpyWith(ctx, kern, a, x, y)
}

// saxpyWith runs the chunk kernel kern over y in parallel (inline when small).
func (rt *Runtime) saxpyWith(ctx context.Context, kern func(a float32, x, y []float32), a float32, x, y []float32) error {
	n := len(y)
	if n <= saxpySeq {
		return rt.runInline(ctx, func() { kern(a, x, y) })
	}
	return rt.ParallelFor(ctx, 0, n, saxpyGrain, func(lo, hi int) error {
		kern(a, x[lo:hi], y[lo:hi])
		return nil
	})
}

// sumBlocks computes the deterministic sum of n elements cut into sumBlock blocks: blocks(b0,
// b1, hi, lo) must store the double-double sums of blocks [b0, b1) into hi and lo.
func (rt *Runtime) sumBlocks(ctx context.Context, n int, blocks func(b0, b1 int, hi, lo []float64)) (float64, error) {
	if n == 0 {
		return 0, rt.runInline(ctx, func() {})
	}
	nb := (n + sumBlock - 1) / sumBlock
	part := make([]float64, 2*nb)
	hi, lo := part[:nb], part[nb:]
	var err error
	if nb <= sumSeqBlocks {
		err = rt.runInline(ctx, func() { blocks(0, nb, hi, lo) })
	} else {
		err = rt.ParallelFor(ctx, 0, nb, sumGrainBlocks, func(b0, b1 int) error {
			blocks(b0, b1, hi[b0:b1], lo[b0:b1])
			return nil
		})
	}
	if err != nil {
		return 0, err
	}
	h, l := ddPairwise(hi, lo)
	return h + l, nil
}

// sumF64CPU is the CPU path of SumF64.
func (rt *Runtime) sumF64CPU(ctx context.Context, x []float64) (float64, error) {
	return rt.sumBlocks(ctx, len(x), func(b0, b1 int, hi, lo []float64) {
		cpukern.SumF64Blocks(x, sumBlock, b0, b1, hi, lo)
	})
}

// sumF32CPU is the CPU path of SumF32.
func (rt *Runtime) sumF32CPU(ctx context.Context, x []float32) (float64, error) {
	return rt.sumBlocks(ctx, len(x), func(b0, b1 int, hi, lo []float64) {
		cpukern.SumF32Blocks(x, sumBlock, b0, b1, hi, lo)
	})
}

// dotF32CPU is the CPU path of DotF32; len(x) == len(y).
func (rt *Runtime) dotF32CPU(ctx context.Context, x, y []float32) (float64, error) {
	return rt.sumBlocks(ctx, len(x), func(b0, b1 int, hi, lo []float64) {
		cpukern.DotF32Blocks(x, y, sumBlock, b0, b1, hi, lo)
	})
}

// ddPairwise sums the double-double values hi[i]+lo[i] in a fixed pairwise tree.
func ddPairwise(hi, lo []float64) (float64, float64) {
	if len(hi) == 1 {
		return hi[0], lo[0]
	}
	m := len(hi) / 2
	ah, al := ddPairwise(hi[:m], lo[:m])
	bh, bl := ddPairwise(hi[m:], lo[m:])
	return ddAdd(ah, al, bh, bl)
}

// ddAdd returns (ah+al) + (bh+bl) as a normalized double-double (TwoSum of the high parts).
func ddAdd(ah, al, bh, bl float64) (float64, float64) {
	s := ah + bh
	bp := s - ah
	e := (ah - (s - bp)) + (bh - bp)
	e += al + bl
	h := s + e
	return h, e - (h - s)
}

// sumStridedCPU is the CPU path of the strided sums.
func (rt *Runtime) sumStridedCPU(ctx context.Context, name string, base unsafe.Pointer, kind int, shape, strides []int) (float64, error) {
	esize := 8
	if kind == cpukern.KindF32 {
		esize = 4
	}
	if len(shape) != len(strides) {
		return 0, invalidf("%s: len(shape) is %d, len(strides) is %d; they must be equal", name, len(shape), len(strides))
	}
	if len(shape) > maxStridedDims {
		return 0, invalidf("%s: %d dimensions, at most %d are supported", name, len(shape), maxStridedDims)
	}
	total := 1
	for i, s := range shape {
		if s < 0 {
			return 0, invalidf("%s: shape[%d] is %d, must be >= 0", name, i, s)
		}
		if s != 0 && total > math.MaxInt64/16/s {
			return 0, invalidf("%s: shape %v has too many elements", name, shape)
		}
		total *= s
	}
	if total == 0 {
		return 0, rt.runInline(ctx, func() {})
	}
	if base == nil {
		return 0, invalidf("%s: base is nil", name)
	}
	off, dims := normalizeLayout(shape, strides)
	ptr := unsafe.Add(base, off) // lowest address of the view: inside the caller's array
	if len(dims) == 0 {
		dims = []dim{{n: 1, stride: esize}}
	}
	if len(dims) == 1 && dims[0].stride == esize { // contiguous
		if kind == cpukern.KindF64 {
			return rt.sumF64CPU(ctx, unsafe.Slice((*float64)(ptr), total))
		}
		return rt.sumF32CPU(ctx, unsafe.Slice((*float32)(ptr), total))
	}
	sh := make([]int64, len(dims))
	st := make([]int64, len(dims))
	for i, d := range dims {
		sh[i], st[i] = int64(d.n), int64(d.stride)
	}
	return rt.sumBlocks(ctx, total, func(b0, b1 int, hi, lo []float64) {
		for b := b0; b < b1; b++ {
			hi[b-b0], lo[b-b0] = cpukern.SumStrided(ptr, kind, sh, st, b*sumBlock, min((b+1)*sumBlock, total))
		}
	})
}

// dim is one dimension of a strided layout: extent and stride in bytes.
type dim struct{ n, stride int }

// normalizeLayout rewrites a non-empty strided layout into an equivalent one that visits the same
// addresses: extents of 1 dropped, negative strides flipped (off is the byte offset from base to
// the lowest address), dimensions ordered by decreasing stride, and dimensions merged where one
// steps exactly over the other. The result depends only on the layout, so sums over it are
// deterministic.
func normalizeLayout(shape, strides []int) (off int, dims []dim) {
	dims = make([]dim, 0, len(shape))
	for i, s := range shape {
		if s == 1 {
			continue
		}
		st := strides[i]
		if st < 0 {
			off += (s - 1) * st
			st = -st
		}
		dims = append(dims, dim{s, st})
	}
	slices.SortStableFunc(dims, func(a, b dim) int { return b.stride - a.stride })
	out := dims[:0]
	for _, d := range dims {
		if len(out) > 0 {
			last := &out[len(out)-1]
			if last.stride == d.n*d.stride {
				last.n *= d.n
				last.stride = d.stride
				continue
			}
		}
		out = append(out, d)
	}
	return off, out
}

// sgemmCPU is the CPU path of Sgemm; arguments are checked.
func (rt *Runtime) sgemmCPU(ctx context.Context, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if m == 0 || n == 0 {
		return rt.runInline(ctx, func() {})
	}
	if alpha == 0 || k == 0 {
		// Not referenced: VEDA's kernel only scales C by beta.
		return rt.sgemmVEDA(ctx, m, n, k, alpha, nil, lda, nil, ldb, beta, c, ldc)
	}
	if vendor := rt.blasName(); vendor != "" && device.BLASFits(m, n, k, lda, ldb, ldc) {
		impls := [2]string{"veda", vendor}
		return rt.withImpl("sgemm", 2*float64(m)*float64(n)*float64(k), impls[:], func(idx int) error {
			if idx == 1 {
				return rt.sgemmBLAS(ctx, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			}
			return rt.sgemmVEDA(ctx, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		})
	}
	return rt.sgemmVEDA(ctx, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmVEDA is VEDA's own sgemm kernel on the CPU, over tiles of C; arguments are checked,
// m, n > 0, and alpha != 0 and k > 0 (else a and b are nil).
func (rt *Runtime) sgemmVEDA(ctx context.Context, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if 2*float64(m)*float64(n)*float64(k) <= sgemmSeqFlops {
		ok := true
		if err := rt.runInline(ctx, func() {
			ok = cpukern.SgemmTile(k, alpha, a, lda, b, ldb, beta, c, ldc, 0, m, 0, n)
		}); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: Sgemm: cannot allocate packing buffers", ErrOutOfMemory)
		}
		return nil
	}
	tm, tn := sgemmTiles(m, n, rt.Workers())
	rows := (m + tm - 1) / tm
	cols := (n + tn - 1) / tn
	return rt.ParallelFor(ctx, 0, rows*cols, 1, func(lo, hi int) error {
		for t := lo; t < hi; t++ {
			i0, j0 := (t/cols)*tm, (t%cols)*tn
			if !cpukern.SgemmTile(k, alpha, a, lda, b, ldb, beta, c, ldc, i0, min(i0+tm, m), j0, min(j0+tn, n)) {
				return fmt.Errorf("%w: Sgemm: cannot allocate packing buffers", ErrOutOfMemory)
			}
		}
		return nil
	})
}

// sgemmTilesPerWorker is how many tiles of C each worker gets: more tiles balance better on a
// busy machine, fewer repack B less often (each tile packs its own panels of B).
var sgemmTilesPerWorker = 3

// sgemmTiles picks the tile of C one task computes: row bands first (each band repacks B, so
// there are few of them), cut into column blocks only when there are fewer bands than wanted,
// rows a multiple of MR and columns of NR, balanced so that the last tile is not a sliver. One
// worker gets the whole matrix as one tile.
func sgemmTiles(m, n, workers int) (tm, tn int) {
	want := 1
	if workers > 1 {
		want = sgemmTilesPerWorker * workers
	}
	rows := min(ceilDiv(m, cpukern.SgemmMR), want)
	cols := 1
	if rows < want {
		cols = max(1, min(ceilDiv(n, 4*cpukern.SgemmNR), ceilDiv(want, rows)))
	}
	return roundUp(ceilDiv(m, rows), cpukern.SgemmMR), roundUp(ceilDiv(n, cols), cpukern.SgemmNR)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// partialOverlap reports whether x and y share memory without being the same slice.
func partialOverlap(x, y []float32) bool {
	if len(x) == 0 || len(y) == 0 {
		return false
	}
	xs, ys := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	xe, ye := xs+uintptr(len(x))*4, ys+uintptr(len(y))*4
	return xs < ye && ys < xe && !(xs == ys && len(x) == len(y))
}
