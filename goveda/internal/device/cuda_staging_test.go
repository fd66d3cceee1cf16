package device

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// stagingConfigs are small staging rings that make ordinary sizes span many
// chunks: a power of two split across memcpy goroutines, and an odd chunk
// size (float elements and device offsets straddle chunk boundaries) with
// two slots (each slot reused many times within one transfer).
var stagingConfigs = []struct {
	chunk          int64
	slots, threads int
	parallel       int64
}{
	{64 << 10, 4, 3, 4 << 10},
	{12345, 2, 1, 1 << 20},
}

// withStaging runs f with the CUDA staging ring set to c, restoring the
// defaults afterwards (the engine resizes its ring on its next copy).
func withStaging(t *testing.T, f func(t *testing.T)) {
	for _, c := range stagingConfigs {
		t.Run(fmt.Sprintf("chunk=%d,slots=%d,threads=%d", c.chunk, c.slots, c.threads), func(t *testing.T) {
			chunk, slots, threads, par := cudaStageChunk, cudaStageSlots, cudaStageThreads, cudaParallelCopy
			defer func() {
				cudaStageChunk, cudaStageSlots, cudaStageThreads, cudaParallelCopy = chunk, slots, threads, par
			}()
			cudaStageChunk, cudaStageSlots, cudaStageThreads, cudaParallelCopy = c.chunk, c.slots, c.threads, c.parallel
			f(t)
		})
	}
}

func byteView[T any](s []T) []byte {
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// TestBuiltinKernelsChunkedStaging runs the built-in kernels, a user kernel
// with In/Out/InOut buffers and raw engine round trips through a small
// staging ring (many chunks, odd tails, misaligned host pointers), checking
// every element against the CPU. CUDA only.
func TestBuiltinKernelsChunkedStaging(t *testing.T) {
	d := cudaDevice(t).(*gdev)
	e := d.eng.(*cudaEngine)
	r := rand.New(rand.NewPCG(11, 12))
	withStaging(t, func(t *testing.T) {
		t.Run("roundtrip", func(t *testing.T) {
			// Two transfers back to back into different buffers, then both
			// read back: the second write reuses slots the first one's copies
			// may still be reading, so a missing slot wait corrupts A.
			for _, n := range []int{1, 7, int(cudaStageChunk) - 1, int(cudaStageChunk), int(cudaStageChunk) + 1, 3*int(cudaStageChunk) + 5, 4<<20 + 3} {
				for _, off := range []int{0, 1, 3} {
					srcA, srcB := make([]byte, n+off), make([]byte, n+off)
					for i := range srcA {
						srcA[i], srcB[i] = byte(r.Uint32()), byte(r.Uint32())
					}
					dstA, dstB := make([]byte, n+5), make([]byte, n+5)
					tm, err := d.batch(func(get func(int64) (*Buffer, error)) error {
						ba, err := get(int64(n))
						if err != nil {
							return err
						}
						bb, err := get(int64(n))
						if err != nil {
							return err
						}
						if err := e.write(ba, unsafe.Pointer(&srcA[off]), int64(n)); err != nil {
							return err
						}
						if err := e.write(bb, unsafe.Pointer(&srcB[off]), int64(n)); err != nil {
							return err
						}
						if err := e.read(unsafe.Pointer(&dstA[5-off%5]), ba, int64(n)); err != nil {
							return err
						}
						return e.read(unsafe.Pointer(&dstB[off%5]), bb, int64(n))
					})
					if err != nil {
						t.Fatalf("n=%d off=%d: %v", n, off, err)
					}
					if !bytes.Equal(dstA[5-off%5:][:n], srcA[off:]) || !bytes.Equal(dstB[off%5:][:n], srcB[off:]) {
						t.Fatalf("n=%d off=%d: round trip differs", n, off)
					}
					if tm.BytesIn != int64(2*n) || tm.BytesOut != int64(2*n) || tm.H2D <= 0 || tm.D2H <= 0 {
						t.Fatalf("n=%d: timing %+v", n, tm)
					}
				}
			}
			if len(e.ring) != cudaStageSlots || e.ringChunk != cudaStageChunk {
				t.Fatalf("ring %d x %d, want %d x %d", len(e.ring), e.ringChunk, cudaStageSlots, cudaStageChunk)
			}
		})
		t.Run("builtin", func(t *testing.T) {
			for _, n := range []int{3, 4097, 1<<20 + 7} {
				for _, shift := range []int{0, 1} {
					x, y := randF32(r, n)[shift:][:n], randF32(r, n)[shift:][:n]
					a := float32(r.Float64()*4 - 2)
					y0 := append([]float32(nil), y...)
					tm, err := d.Saxpy(a, x, y)
					if err != nil {
						t.Fatalf("saxpy n=%d: %v", n, err)
					}
					for i := range y {
						want := float64(a)*float64(x[i]) + float64(y0[i])
						checkClose(t, fmt.Sprintf("saxpy n=%d i=%d", n, i), float64(y[i]), want, math.Abs(float64(a*x[i]))+math.Abs(float64(y0[i])), 1e-6)
					}
					if tm.BytesIn != int64(8*n) || tm.BytesOut != int64(4*n) {
						t.Fatalf("saxpy timing %+v", tm)
					}
					var s, abs, dot, dabs float64
					for i := range x {
						s += float64(x[i])
						abs += math.Abs(float64(x[i]))
						dot += float64(x[i]) * float64(y[i])
						dabs += math.Abs(float64(x[i]) * float64(y[i]))
					}
					got, _, err := d.SumF32(x)
					if err != nil {
						t.Fatal(err)
					}
					checkClose(t, fmt.Sprintf("sum_f32 n=%d", n), got, s, abs, 1e-7)
					if got, _, err = d.DotF32(x, y); err != nil {
						t.Fatal(err)
					}
					checkClose(t, fmt.Sprintf("dot n=%d", n), got, dot, dabs, 1e-7)
					xd := make([]float64, n+shift)[shift:]
					var sd, sdabs float64
					for i := range xd {
						xd[i] = r.NormFloat64() * 1e3
						sd += xd[i]
						sdabs += math.Abs(xd[i])
					}
					if got, _, err = d.SumF64(xd); err != nil {
						t.Fatal(err)
					}
					checkClose(t, fmt.Sprintf("sum_f64 n=%d", n), got, sd, sdabs, 1e-13)
				}
			}
			// misaligned host pointers: data at byte offsets 1..3
			n := 1<<18 + 5
			bx, by := make([]byte, 4*n+3), make([]byte, 4*n+3)
			xs, ys := randF32(r, n)[:n], randF32(r, n)[:n]
			var want float64
			for _, v := range xs {
				want += float64(v)
			}
			for off := 1; off <= 3; off++ {
				copy(bx[off:], byteView(xs))
				copy(by[off:], byteView(ys))
				got, _, err := d.SumF32(unsafe.Slice((*float32)(unsafe.Pointer(&bx[off])), n)) // misaligned
				if err != nil {
					t.Fatal(err)
				}
				checkClose(t, "misaligned sum", got, want, float64(n), 1e-7)
				if _, err := d.Saxpy(2, unsafe.Slice((*float32)(unsafe.Pointer(&bx[off])), n), unsafe.Slice((*float32)(unsafe.Pointer(&by[off])), n)); err != nil {
					t.Fatal(err)
				}
				out := make([]float32, n)
				copy(byteView(out), by[off:])
				for i := range out {
					checkClose(t, fmt.Sprintf("misaligned saxpy off=%d i=%d", off, i), float64(out[i]), 2*float64(xs[i])+float64(ys[i]), 4, 1e-6)
				}
			}
		})
		t.Run("sgemm", func(t *testing.T) {
			m, n, k := 300, 200, 150
			lda, ldb, ldc := k+5, n+3, n+7
			a, b := randF32(r, span(m, k, lda))[1:], randF32(r, span(k, n, ldb))[1:]
			c := randF32(r, span(m, n, ldc))[1:]
			c0 := append([]float32(nil), c...)
			alpha, beta := float32(1.5), float32(0.5)
			if _, err := d.Sgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < m; i++ {
				for j := 0; j < ldc && i*ldc+j < len(c); j++ {
					if j >= n {
						if c[i*ldc+j] != c0[i*ldc+j] {
							t.Fatalf("sgemm: gap C[%d,%d] changed", i, j)
						}
						continue
					}
					var acc, sc float64
					for p := 0; p < k; p++ {
						acc += float64(a[i*lda+p]) * float64(b[p*ldb+j])
						sc += math.Abs(float64(a[i*lda+p]) * float64(b[p*ldb+j]))
					}
					want := float64(alpha)*acc + float64(beta)*float64(c0[i*ldc+j])
					checkClose(t, fmt.Sprintf("sgemm C[%d,%d]", i, j), float64(c[i*ldc+j]), want, sc+1, 1e-5)
				}
			}
		})
		t.Run("userkernel", func(t *testing.T) {
			k, err := d.CompileKernel(KernelSource{Name: "stage_mix", CUDA: `extern "C" __global__ void stage_mix(const float *x, float *y, float *z, unsigned char *b, float a, long long n, long long nb) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { y[i] = a * x[i] + 1.0f; z[i] = 2.0f * z[i] + x[i]; }
    if (i < n) for (long long j = i; j < nb; j += n) b[j] ^= (unsigned char)(j * 7 + 1);
}`})
			if errors.Is(err, ErrUnsupported) {
				t.Skipf("no NVRTC: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			for _, n := range []int{5, 1<<20 + 7} {
				nb := 4*n + 3 // odd byte count, at an odd host address
				x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
				braw := make([]byte, nb+1)
				bb := braw[1:]
				for i := range x {
					x[i] = float32(i%4096 - 2048) // small integers: every result is exact
					y[i] = float32(math.NaN())
					z[i] = float32(i % 1000)
				}
				for i := range bb {
					bb[i] = byte(r.Uint32())
				}
				b0 := append([]byte(nil), bb...)
				tm, err := k.Run(int64(n), SliceArg(ArgIn, x), SliceArg(ArgOut, y), SliceArg(ArgInOut, z),
					Arg{Kind: ArgInOut, Ptr: unsafe.Pointer(&bb[0]), Bytes: int64(nb)}, ScalarArg(float32(3)), ScalarArg(int64(n)), ScalarArg(int64(nb)))
				if err != nil {
					t.Fatal(err)
				}
				for i := range y {
					if y[i] != 3*x[i]+1 || z[i] != 2*float32(i%1000)+x[i] {
						t.Fatalf("n=%d i=%d: y=%v z=%v", n, i, y[i], z[i])
					}
				}
				for j := range bb {
					if bb[j] != b0[j]^byte(j*7+1) {
						t.Fatalf("n=%d byte %d: %#x want %#x", n, j, bb[j], b0[j]^byte(j*7+1))
					}
				}
				if tm.BytesIn != int64(8*n+nb) || tm.BytesOut != int64(8*n+nb) {
					t.Fatalf("timing %+v", tm)
				}
			}
		})
	})
}
