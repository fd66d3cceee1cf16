package device

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

var (
	disc     *Discovery
	cacheDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "veda-device-test")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	o := OptionsFromEnv()
	o.CacheDir = filepath.Join(dir, "main")
	disc = DiscoverWith(o)
	code := m.Run()
	disc.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testDevices returns the PoCL (or first OpenCL) device and the first CUDA
// device, each only when present.
func testDevices(t *testing.T) []Device {
	var out []Device
	for _, b := range disc.Backends {
		if len(b.Devices) == 0 {
			continue
		}
		pick := b.Devices[0]
		for _, d := range b.Devices {
			if strings.Contains(d.Info().Platform, "Portable Computing Language") {
				pick = d
			}
		}
		out = append(out, pick)
	}
	if len(out) == 0 {
		t.Skipf("no GPU/OpenCL device: %v", disc.Absent)
	}
	return out
}

func cudaDevice(t *testing.T) Device {
	for _, b := range disc.Backends {
		if b.Kind == KindCUDA && len(b.Devices) > 0 {
			return b.Devices[0]
		}
	}
	t.Skipf("no CUDA device: %s", disc.Absent[KindCUDA])
	return nil
}

var sizes = []int{1, 3, 1023, 4097, 1<<20 + 7}

func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n+1) // +1: tests use x[1:] for a shifted base
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

func checkClose(t *testing.T, what string, got, want, scale float64, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*scale+1e-30 {
		t.Fatalf("%s: got %.17g want %.17g (|diff| %.3g > %.3g)", what, got, want, math.Abs(got-want), tol*scale)
	}
}

func TestDiscover(t *testing.T) {
	for _, d := range testDevices(t) {
		i := d.Info()
		t.Logf("%s device %q vendor %q platform %q driver %q mem %d MiB CUs %d maxWG %d fp64 %v",
			i.Kind, i.Name, i.Vendor, i.Platform, i.DriverVersion, i.MemoryBytes>>20, i.ComputeUnits, i.MaxWorkGroupSize, i.FP64)
		if i.Name == "" || i.MemoryBytes == 0 || i.ComputeUnits <= 0 || i.MaxWorkGroupSize <= 0 {
			t.Fatalf("incomplete info %+v", i)
		}
	}
	for k, why := range disc.Absent {
		t.Logf("absent %s: %s", k, why)
	}
}

func TestBuiltinKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			for _, n := range sizes {
				for _, shift := range []int{0, 1} { // shift 1: slice base offset by one element
					x, y := randF32(r, n)[shift:][:n], randF32(r, n)[shift:][:n]
					// saxpy
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
						t.Fatalf("saxpy timing bytes %+v", tm)
					}
					// sums and dot against a float64 reference
					var s, abs, dot, dabs float64
					for i := range x {
						s += float64(x[i])
						abs += math.Abs(float64(x[i]))
						dot += float64(x[i]) * float64(y[i])
						dabs += math.Abs(float64(x[i]) * float64(y[i]))
					}
					got, _, err := d.SumF32(x)
					if err != nil {
						t.Fatalf("sum_f32 n=%d: %v", n, err)
					}
					checkClose(t, fmt.Sprintf("sum_f32 n=%d", n), got, s, abs, 1e-7)
					got2, _, _ := d.SumF32(x)
					if got2 != got {
						t.Fatalf("sum_f32 n=%d not reproducible: %v then %v", n, got, got2)
					}
					got, _, err = d.DotF32(x, y)
					if err != nil {
						t.Fatalf("dot n=%d: %v", n, err)
					}
					checkClose(t, fmt.Sprintf("dot n=%d", n), got, dot, dabs, 1e-7)
					xd := make([]float64, n+shift)[shift:]
					var sd, sdabs float64
					for i := range xd {
						xd[i] = r.NormFloat64() * 1e3
						sd += xd[i]
						sdabs += math.Abs(xd[i])
					}
					got, _, err = d.SumF64(xd)
					if !d.Info().FP64 {
						if !errors.Is(err, ErrUnsupported) {
							t.Fatalf("sum_f64 without fp64: %v", err)
						}
					} else {
						if err != nil {
							t.Fatalf("sum_f64 n=%d: %v", n, err)
						}
						checkClose(t, fmt.Sprintf("sum_f64 n=%d", n), got, sd, sdabs, 1e-13)
					}
				}
			}
		})
	}
}

// TestMisalignedPointers passes float data at odd byte addresses.
func TestMisalignedPointers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			for _, n := range []int{1, 3, 4097} {
				bx, by := make([]byte, 4*n+3), make([]byte, 4*n+3)
				xs, ys := randF32(r, n)[:n], randF32(r, n)[:n]
				for off := 1; off <= 3; off++ {
					copy(bx[off:], unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), 4*n))
					copy(by[off:], unsafe.Slice((*byte)(unsafe.Pointer(&ys[0])), 4*n))
					var want float64
					for _, v := range xs {
						want += float64(v)
					}
					got, _, err := d.SumF32(unsafe.Slice((*float32)(unsafe.Pointer(&bx[off])), n)) // misaligned
					if err != nil {
						t.Fatal(err)
					}
					checkClose(t, "misaligned sum", got, want, float64(n), 1e-7)
					if _, err := d.Saxpy(2, unsafe.Slice((*float32)(unsafe.Pointer(&bx[off])), n), unsafe.Slice((*float32)(unsafe.Pointer(&by[off])), n)); err != nil {
						t.Fatal(err)
					}
					out := make([]float32, n)
					copy(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n), by[off:])
					for i := range out {
						checkClose(t, "misaligned saxpy", float64(out[i]), 2*float64(xs[i])+float64(ys[i]), 4, 1e-6)
					}
				}
			}
		})
	}
}

func TestSgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	shapes := [][6]int{ // m, n, k, lda pad, ldb pad, ldc pad
		{1, 1, 1, 0, 0, 0}, {3, 5, 7, 1, 2, 3}, {17, 33, 65, 0, 0, 0}, {64, 64, 64, 0, 0, 0}, {130, 70, 100, 5, 0, 7},
	}
	for _, d := range testDevices(t) {
		for _, vendor := range []bool{false, true} {
			// The vendor library is tested on every device it loads for, PoCL included (where
			// Vendor() does not offer it, see vendorFor), on two shapes: CLBlast compiles its
			// kernels per shape class.
			lib := vendorLib(d.Kind())
			if vendor && lib == "" {
				t.Logf("%s: no vendor sgemm", d.Info().Name)
				continue
			}
			name := d.Kind().String()
			if vendor {
				name += "/" + lib
			}
			t.Run(name, func(t *testing.T) {
				sgemm := d.Sgemm
				shapes := shapes
				if vendor {
					g := d.(*gdev)
					sgemm = func(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (Timing, error) {
						return g.sgemm(true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
					}
					shapes = shapes[2:4]
				}
				for _, s := range shapes {
					for _, beta := range []float32{0, 0.5} {
						m, n, k := s[0], s[1], s[2]
						lda, ldb, ldc := k+s[3], n+s[4], n+s[5]
						a, b := randF32(r, span(m, k, lda))[1:], randF32(r, span(k, n, ldb))[1:]
						c := randF32(r, span(m, n, ldc))[1:]
						c0 := append([]float32(nil), c...)
						if beta == 0 && ldc == n {
							for i := range c {
								c[i] = float32(math.NaN()) // poison: beta == 0 must not read C
							}
						}
						alpha := float32(1.5)
						if _, err := sgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); err != nil {
							t.Fatalf("sgemm %v: %v", s, err)
						}
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								var acc, sc float64
								for p := 0; p < k; p++ {
									acc += float64(a[i*lda+p]) * float64(b[p*ldb+j])
									sc += math.Abs(float64(a[i*lda+p]) * float64(b[p*ldb+j]))
								}
								want := float64(alpha) * acc
								if beta != 0 {
									want += float64(beta) * float64(c0[i*ldc+j])
								}
								checkClose(t, fmt.Sprintf("sgemm %v beta=%v C[%d,%d]", s, beta, i, j), float64(c[i*ldc+j]), want, sc+1, 1e-5)
							}
							for j := n; j < ldc && i < m-1; j++ { // gaps between rows unchanged
								if c[i*ldc+j] != c0[i*ldc+j] && !(beta == 0 && ldc == n) {
									t.Fatalf("sgemm %v: gap C[%d,%d] changed", s, i, j)
								}
							}
						}
					}
				}
			})
		}
	}
}

const userCL = `__kernel void scale_add(__global const float *x, __global float *y, const float a, const long n) {
    long i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + 1.0f;
}`

const userCU = `extern "C" __global__ void scale_add(const float *x, float *y, float a, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + 1.0f;
}`

func TestUserKernel(t *testing.T) {
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			k, err := d.CompileKernel(KernelSource{OpenCL: userCL, CUDA: userCU, Name: "scale_add"})
			if errors.Is(err, ErrUnsupported) && d.Kind() == KindCUDA {
				t.Skipf("no NVRTC: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			for _, n := range []int{1, 1000, 4097} {
				x := make([]float32, n)
				y := make([]float32, n)
				for i := range x {
					x[i] = float32(i)
					y[i] = float32(math.NaN())
				}
				tm, err := k.Run(int64(n), SliceArg(ArgIn, x), SliceArg(ArgOut, y), ScalarArg(float32(3)), ScalarArg(int64(n)))
				if err != nil {
					t.Fatal(err)
				}
				for i := range y {
					if y[i] != 3*x[i]+1 {
						t.Fatalf("n=%d y[%d]=%v", n, i, y[i])
					}
				}
				if tm.BytesIn != int64(4*n) || tm.BytesOut != int64(4*n) {
					t.Fatalf("timing %+v", tm)
				}
			}
		})
	}
}

func TestCompileErrorReturnsLog(t *testing.T) {
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			_, err := d.CompileKernel(KernelSource{OpenCL: "__kernel void broken(__global float *x) { x[0] = undefined_name; }",
				CUDA: `extern "C" __global__ void broken(float *x) { x[0] = undefined_name; }`, Name: "broken"})
			if d.Kind() == KindCUDA && errors.Is(err, ErrUnsupported) {
				t.Skip("no NVRTC")
			}
			var de *DeviceError
			if !errors.Is(err, ErrBuild) || !errors.As(err, &de) || !strings.Contains(de.Log, "undefined_name") {
				t.Fatalf("want a build error with the log, got %v", err)
			}
			t.Logf("build error: %v", err)
		})
	}
}

func TestProgramCacheHitAndCorruptEntry(t *testing.T) {
	dir := filepath.Join(cacheDir, "cachetest")
	o := OptionsFromEnv()
	o.CacheDir, o.SkipCUDA = dir, true
	dd := DiscoverWith(o)
	defer dd.Close()
	if len(dd.Backends) == 0 {
		t.Skipf("no OpenCL: %v", dd.Absent)
	}
	d := dd.Backends[0].Devices[0]
	src := KernelSource{OpenCL: userCL + "\n// cache test\n", Name: "scale_add"}
	run := func() {
		t.Helper()
		k, err := d.CompileKernel(src)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		x, y := []float32{1, 2, 3}, make([]float32, 3)
		if _, err := k.Run(3, SliceArg(ArgIn, x), SliceArg(ArgOut, y), ScalarArg(float32(2)), ScalarArg(int64(3))); err != nil {
			t.Fatal(err)
		}
		if y[2] != 7 {
			t.Fatalf("y=%v", y)
		}
	}
	run()
	s := dd.CacheStats()
	if s.Hits != 0 || s.Writes != 1 {
		t.Fatalf("first use: %+v", s)
	}
	run()
	if s = dd.CacheStats(); s.Hits != 1 {
		t.Fatalf("second use should hit: %+v", s)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "opencl", "*.bin"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	run()
	if s = dd.CacheStats(); s.Corrupt != 1 || s.Writes != 2 {
		t.Fatalf("corrupt entry should be rebuilt: %+v", s)
	}
	run()
	if s = dd.CacheStats(); s.Hits != 2 {
		t.Fatalf("rebuilt entry should hit: %+v", s)
	}
}

func TestCacheOff(t *testing.T) {
	c := newDiskCache("off")
	c.store("opencl", "k", []byte("x"))
	if c.load("opencl", "k") != nil || c.stats().Dir != "" {
		t.Fatal("cache off stored something")
	}
}

func TestNoDriver(t *testing.T) {
	t.Setenv("VEDA_OPENCL_LIBRARY", "/nonexistent/libOpenCL.so.1")
	t.Setenv("VEDA_CUDA_LIBRARY", "/nonexistent/libcuda.so.1")
	t.Setenv("VEDA_CACHE_DIR", "off")
	dd := DiscoverWith(OptionsFromEnv())
	defer dd.Close()
	if len(dd.Backends) != 0 || len(dd.Devices()) != 0 {
		t.Fatalf("backends without drivers: %+v", dd.Backends)
	}
	for _, k := range []Kind{KindOpenCL, KindCUDA} {
		why := dd.Absent[k]
		if !strings.Contains(why, "/nonexistent/") || !strings.Contains(why, "dlopen") {
			t.Fatalf("%s absent reason %q", k, why)
		}
		t.Logf("%s absent: %s", k, why)
	}
	t.Setenv("VEDA_DISABLE_GPU", "1")
	dd = DiscoverWith(OptionsFromEnv())
	if !strings.Contains(dd.Absent[KindCUDA], "VEDA_DISABLE_GPU") {
		t.Fatalf("disabled: %v", dd.Absent)
	}
}

func TestCUDAErrorMapping(t *testing.T) {
	forgetCUDAOptional() // as if cuGetErrorName were absent: our own table
	for code, want := range map[int]string{2: "CUDA_ERROR_OUT_OF_MEMORY", 100: "CUDA_ERROR_NO_DEVICE", 719: "CUDA_ERROR_LAUNCH_FAILED", 12345: "CUDA_ERROR_12345"} {
		if name, _ := cudaErrorName(code); name != want {
			t.Fatalf("code %d: %q want %q", code, name, want)
		}
	}
	err := cuError("cuMemAlloc", 2)
	if !errors.Is(err, ErrOutOfMemory) || !strings.Contains(err.Error(), "CUDA_ERROR_OUT_OF_MEMORY") {
		t.Fatalf("oom error %v", err)
	}
	if cuError("x", 0) != nil || errors.Is(cuError("x", 1), ErrOutOfMemory) {
		t.Fatal("mapping")
	}
	if !errors.Is(oclError("clCreateBuffer", -4), ErrOutOfMemory) || !strings.Contains(oclError("x", -11).Error(), "CL_BUILD_PROGRAM_FAILURE") {
		t.Fatal("opencl mapping")
	}
}

func TestPoolReuseLimitTrim(t *testing.T) {
	var allocs, frees int
	oomOnce := true
	p := newPool(3*minClass, func(c int64) (*Buffer, error) {
		if c == 1<<20 && oomOnce {
			oomOnce = false
			return nil, &DeviceError{Op: "alloc", oom: true}
		}
		allocs++
		return &Buffer{}, nil
	}, func(*Buffer) { frees++ })
	a, _ := p.get(100)
	b, _ := p.get(minClass)
	p.put(a)
	c, _ := p.get(10)
	if c != a || allocs != 2 {
		t.Fatalf("no reuse: allocs %d", allocs)
	}
	big, err := p.get(1 << 20) // OOM first: trim + retry
	if err != nil || p.snapshot().OOMRetries != 1 {
		t.Fatalf("oom retry: %v %+v", err, p.snapshot())
	}
	p.put(big) // over the limit: released
	p.put(b)
	p.put(c)
	if s := p.snapshot(); s.CachedBytes != 2*minClass || frees != 1 {
		t.Fatalf("limit: %+v frees %d", s, frees)
	}
	p.trim()
	if s := p.snapshot(); s.CachedBytes != 0 || frees != 3 {
		t.Fatalf("trim: %+v frees %d", s, frees)
	}
	if sizeClass(1) != minClass || sizeClass(minClass+1) != 2*minClass {
		t.Fatal("size classes")
	}
}

func TestDevicePool(t *testing.T) {
	for _, d := range testDevices(t) {
		b, err := d.Alloc(10000)
		if err != nil {
			t.Fatal(err)
		}
		d.Free(b)
		b2, _ := d.Alloc(9000)
		if b2 != b {
			t.Fatal("pool did not reuse")
		}
		d.Free(b2)
		d.Trim()
		if d.PoolStats().CachedBytes != 0 {
			t.Fatal("trim")
		}
		if err := d.Synchronize(); err != nil {
			t.Fatal(err)
		}
	}
}
