package device

import (
	"errors"
	"math"
	"testing"
	"unsafe"
)

const chainCL = `__kernel void scale_by(__global float *z, __global const float *y, __global const double *dot, const long n) {
    long i = get_global_id(0);
    if (i < n) z[i] = y[i] * (float)dot[0];
}`

const chainCU = `extern "C" __global__ void scale_by(float *z, const float *y, const double *dot, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) z[i] = y[i] * (float)dot[0];
}`

func writeF32(t *testing.T, r *Resident, x []float32) {
	t.Helper()
	if _, err := r.Write(0, unsafe.Pointer(&x[0]), int64(len(x))*4); err != nil {
		t.Fatal(err)
	}
}

// saxpy -> dot -> user kernel on resident buffers: every element checked against a host
// reference, and not one copy between the writes of the inputs and the read of the result.
func TestResidentChainNoTransfers(t *testing.T) {
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			const n = 100_003
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(i%17) * 0.125
				y[i] = float32(i%5) - 2
			}
			rx, err := d.NewResident(n * 4)
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Free()
			ry, _ := d.NewResident(n * 4)
			defer ry.Free()
			rz, _ := d.NewResident(n * 4)
			defer rz.Free()
			rdot, _ := d.NewResident(8)
			defer rdot.Free()
			writeF32(t, rx, x)
			writeF32(t, ry, y)
			k, err := d.CompileKernel(KernelSource{OpenCL: chainCL, CUDA: chainCU, Name: "scale_by"})
			if err != nil {
				t.Skipf("compile: %v", err)
			}
			defer k.Close()
			before := d.TransferStats()
			if _, err := d.SaxpyResident(0.5, rx, ry, n); err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.DotF32Resident(rx, ry, n, rdot); err != nil {
				t.Fatal(err)
			}
			if _, err := k.Run(n, BufferArg(rz), BufferArg(ry), BufferArg(rdot), ScalarArg(int64(n))); err != nil {
				t.Fatal(err)
			}
			if after := d.TransferStats(); after != before {
				t.Fatalf("chain moved data: before %+v after %+v", before, after)
			}
			// Host reference.
			wy := make([]float32, n)
			for i := range wy {
				wy[i] = 0.5*x[i] + y[i]
			}
			// The device's dot of the same data read back to the host is the same float64.
			hostDot, _, err := d.DotF32Resident(rx, ry, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			var devDot float64
			if _, err := rdot.Read(0, unsafe.Pointer(&devDot), 8); err != nil {
				t.Fatal(err)
			}
			if devDot != hostDot {
				t.Fatalf("dot kept on the device %v != read back %v", devDot, hostDot)
			}
			var ref float64
			for i := range x {
				ref += float64(x[i]) * float64(wy[i])
			}
			if math.Abs(devDot-ref) > 1e-9*math.Abs(ref)+1e-9 {
				t.Fatalf("dot = %v, want %v", devDot, ref)
			}
			gy, gz := make([]float32, n), make([]float32, n)
			if _, err := ry.Read(0, unsafe.Pointer(&gy[0]), n*4); err != nil {
				t.Fatal(err)
			}
			if _, err := rz.Read(0, unsafe.Pointer(&gz[0]), n*4); err != nil {
				t.Fatal(err)
			}
			for i := range gy {
				if gy[i] != wy[i] {
					t.Fatalf("y[%d] = %v, want %v", i, gy[i], wy[i])
				}
				if want := wy[i] * float32(devDot); gz[i] != want {
					t.Fatalf("z[%d] = %v, want %v", i, gz[i], want)
				}
			}
			// Offsets: a partial write and read.
			part := []float32{9, 8, 7}
			if _, err := ry.Write(40, unsafe.Pointer(&part[0]), 12); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 5)
			if _, err := ry.Read(36, unsafe.Pointer(&got[0]), 20); err != nil {
				t.Fatal(err)
			}
			if got[0] != wy[9] || got[1] != 9 || got[2] != 8 || got[3] != 7 || got[4] != wy[13] {
				t.Fatalf("offset write/read: %v", got)
			}
		})
	}
}

func TestResidentBadInput(t *testing.T) {
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			inv := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("%s: err = %v, want ErrInvalidArgument", what, err)
				}
			}
			_, err := d.NewResident(0)
			inv("zero size", err)
			_, err = d.NewResident(-1)
			inv("negative size", err)
			_, err = d.NewResident(int64(d.Info().MemoryBytes) + 1)
			inv("huge size", err)
			r, err := d.NewResident(64)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 128)
			_, err = r.Write(1, unsafe.Pointer(&buf[0]), 64)
			inv("write past the end", err)
			_, err = r.Read(-1, unsafe.Pointer(&buf[0]), 4)
			inv("read at a negative offset", err)
			_, err = r.Read(0, nil, 4)
			inv("read into nil", err)
			small, _ := d.NewResident(16)
			_, err = d.SaxpyResident(1, r, small, 16)
			inv("saxpy longer than a buffer", err)
			// A buffer of another device: a second discovery opens the same hardware as new devices.
			o := OptionsFromEnv()
			o.CacheDir = cacheDir + "/other"
			other := DiscoverWith(o)
			defer other.Close()
			for _, od := range other.Devices() {
				if od.Kind() != d.Kind() {
					continue
				}
				ro, err := od.NewResident(64)
				if err != nil {
					t.Fatal(err)
				}
				_, err = d.SaxpyResident(1, r, ro, 16)
				inv("buffers of two devices", err)
				k, err := d.CompileKernel(KernelSource{OpenCL: userCL, CUDA: userCU, Name: "scale_add"})
				if err != nil {
					t.Fatal(err)
				}
				_, err = k.Run(16, BufferArg(r), BufferArg(ro), ScalarArg(float32(1)), ScalarArg(int64(16)))
				inv("kernel with another device's buffer", err)
				k.Close()
				ro.Free()
				break
			}
			if err := small.Free(); err != nil {
				t.Fatal(err)
			}
			inv("double free", small.Free())
			_, err = small.Read(0, unsafe.Pointer(&buf[0]), 4)
			inv("read of a destroyed buffer", err)
			_, err = d.SaxpyResident(1, r, small, 4)
			inv("saxpy on a destroyed buffer", err)
			r.Free()
		})
	}
}

func TestKernelLaunchShapes(t *testing.T) {
	const src2D = `__kernel void fill2d(__global int *out, const int w) {
    int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
    out[(z * get_global_size(1) + y) * w + x] = x + 100 * y + 10000 * z;
}`
	const src2DCU = `extern "C" __global__ void fill2d(int *out, int w) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y, z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x < w && y < 6) out[(z * 6 + y) * w + x] = x + 100 * y + 10000 * z;
}`
	for _, d := range testDevices(t) {
		t.Run(d.Kind().String(), func(t *testing.T) {
			k, err := d.CompileKernel(KernelSource{OpenCL: src2D, CUDA: src2DCU, Name: "fill2d"})
			if err != nil {
				t.Skipf("compile: %v", err)
			}
			defer k.Close()
			const w, h, depth = 8, 6, 3
			out := make([]int32, w*h*depth)
			for _, local := range [][3]int64{{}, {4, 2, 1}, {8, 3, 3}} {
				for i := range out {
					out[i] = -1
				}
				if _, err := k.RunND([3]int64{w, h, depth}, local, SliceArg(ArgOut, out), ScalarArg(int32(w))); err != nil {
					t.Fatalf("local %v: %v", local, err)
				}
				for z := 0; z < depth; z++ {
					for y := 0; y < h; y++ {
						for x := 0; x < w; x++ {
							if got := out[(z*h+y)*w+x]; got != int32(x+100*y+10000*z) {
								t.Fatalf("local %v: out[%d,%d,%d] = %d", local, x, y, z, got)
							}
						}
					}
				}
			}
			bad := [][2][3]int64{
				{{0, 1, 1}, {}},              // zero extent
				{{1 << 21, 1 << 21, 1}, {}},  // more than 2^40 work-items
				{{8, 6, 3}, {0, 2, 1}},       // partly zero local
				{{8, 6, 3}, {8, 6, 3 + 1}},   // local above the work-group limit or a dimension limit
				{{8, 6, 3}, {1 << 20, 1, 1}}, // beyond the per-dimension limit
			}
			if d.Kind() == KindOpenCL {
				bad = append(bad, [2][3]int64{{8, 6, 3}, {3, 1, 1}}) // 3 does not divide 8
			}
			for _, b := range bad {
				for i := range out {
					out[i] = -7
				}
				_, err := k.RunND(b[0], b[1], SliceArg(ArgOut, out), ScalarArg(int32(w)))
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("global %v local %v: err = %v, want ErrInvalidArgument", b[0], b[1], err)
				}
				if out[0] != -7 {
					t.Fatalf("global %v local %v: the kernel ran", b[0], b[1])
				}
			}
		})
	}
}

// oomEngine is a test double of an engine whose device is always out of memory (no hardware
// can be made to run out on demand). Only allocation is ever reached.
type oomEngine struct{ allocs int }

func (e *oomEngine) allocBuf(int64) (*Buffer, error) {
	e.allocs++
	return nil, &DeviceError{Backend: KindOpenCL, Op: "clCreateBuffer", Code: -4, Name: "CL_MEM_OBJECT_ALLOCATION_FAILURE", oom: true}
}
func (e *oomEngine) freeBuf(*Buffer)                             { panic("unused") }
func (e *oomEngine) write(*Buffer, unsafe.Pointer, int64) error  { panic("unused") }
func (e *oomEngine) read(unsafe.Pointer, *Buffer, int64) error   { panic("unused") }
func (e *oomEngine) launch(*kfunc, [3]int, [3]int, []karg) error { panic("unused") }
func (e *oomEngine) finish() (Timing, error)                     { return Timing{}, nil }
func (e *oomEngine) builtin(string) (*kfunc, error)              { panic("unused") }
func (e *oomEngine) compile(KernelSource) (*kfunc, error)        { panic("unused") }
func (e *oomEngine) releaseKernel(*kfunc)                        {}
func (e *oomEngine) sync() error                                 { return nil }
func (e *oomEngine) close()                                      {}
func (e *oomEngine) vendorSgemm(int, int, int, float32, *Buffer, int, *Buffer, int, float32, *Buffer, int) error {
	panic("unused")
}

// Out of device memory is reported as such (after the pool's trim and one retry): the error
// matches ErrOutOfMemory, never ErrInvalidArgument, and nothing is allocated.
func TestResidentOutOfMemory(t *testing.T) {
	eng := &oomEngine{}
	d := newGdev(Info{Kind: KindOpenCL, Name: "oom double", MemoryBytes: 1 << 30}, eng, 1<<20, newDiskCache("off"))
	_, err := d.NewResident(1 << 20)
	if !errors.Is(err, ErrOutOfMemory) || errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("err = %v, want ErrOutOfMemory", err)
	}
	if eng.allocs != 2 || d.PoolStats().OOMRetries != 1 {
		t.Fatalf("allocs %d, stats %+v: want one trim + retry", eng.allocs, d.PoolStats())
	}
}
