package goveda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/device"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Device-layer integration tests. They run for real on whatever devices the machine has: on the
// CI machine that is the CPU and PoCL's OpenCL CPU device. Set VEDA_REQUIRE_OPENCL=1 to make a
// missing OpenCL device a failure instead of a skip.

// openclIndex returns the index of the first OpenCL device of rt, or skips the test.
func openclIndex(t *testing.T, rt *Runtime) int {
	t.Helper()
	devs, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Kind == DeviceOpenCL {
			return d.Index
		}
	}
	absent, _ := rt.AbsentBackends()
	if os.Getenv("VEDA_REQUIRE_OPENCL") == "1" {
		t.Fatalf("no OpenCL device (VEDA_REQUIRE_OPENCL=1): %v", absent)
	}
	t.Skipf("no OpenCL device: %v", absent)
	return -1
}

// accelIndexes returns the indexes of every non-CPU device of rt (OpenCL and CUDA), or skips the
// test when there is none (fails under VEDA_REQUIRE_OPENCL=1).
func accelIndexes(t *testing.T, rt *Runtime) []int {
	t.Helper()
	if os.Getenv("VEDA_REQUIRE_OPENCL") == "1" {
		openclIndex(t, rt) // fails when there is no OpenCL device
	}
	devs, _ := rt.Devices()
	var out []int
	for _, d := range devs[1:] {
		out = append(out, d.Index)
	}
	if len(out) == 0 {
		absent, _ := rt.AbsentBackends()
		t.Skipf("no OpenCL or CUDA device: %v", absent)
	}
	return out
}

func newDevRT(t *testing.T, cfg Config) *Runtime {
	t.Helper()
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

// misaligned returns a slice of n float32 whose first element is 4 bytes past a 16-byte
// boundary (so host pointers are not aligned as drivers would like).
func misaligned(n int) []float32 {
	buf := make([]float32, n+4)
	return buf[1 : n+1]
}

func TestDevicesListCPUFirst(t *testing.T) {
	rt := newDevRT(t, Config{})
	devs, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) == 0 || devs[0].Index != 0 || devs[0].Kind != DeviceCPU || !devs[0].FP64 {
		t.Fatalf("device 0 is not the CPU: %+v", devs)
	}
	for i, d := range devs {
		if d.Index != i || d.Name == "" {
			t.Fatalf("device %d: %+v", i, d)
		}
	}
	absent, err := rt.AbsentBackends()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("devices: %d, absent backends: %v", len(devs), absent)
	if _, err := rt.Profile(); err != nil {
		t.Fatal(err)
	}
}

func TestDevicesDisabled(t *testing.T) {
	rt := newDevRT(t, Config{DisableGPU: true})
	devs, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 {
		t.Fatalf("DisableGPU: %d devices", len(devs))
	}
	absent, _ := rt.AbsentBackends()
	if !strings.Contains(absent["opencl"], "disabled") || !strings.Contains(absent["cuda"], "disabled") {
		t.Fatalf("absent reasons: %v", absent)
	}
	// Everything still works on the CPU.
	x := []float32{1, 2, 3}
	y := []float32{1, 1, 1}
	if err := rt.Saxpy(context.Background(), 2, x, y); err != nil || y[2] != 7 {
		t.Fatalf("saxpy: %v %v", err, y)
	}
	if _, err := rt.Kernel(KernelSource{OpenCL: "__kernel void k(){}", Name: "k"}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("kernel without devices: %v", err)
	}
}

func TestPinDeviceBadInput(t *testing.T) {
	rt := newDevRT(t, Config{})
	devs, _ := rt.Devices()
	for _, i := range []int{-2, len(devs), 1 << 20} {
		if err := rt.PinDevice(i); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("PinDevice(%d): %v", i, err)
		}
	}
	for _, i := range []int{-1, len(devs)} {
		if _, err := rt.Device(i); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Device(%d): %v", i, err)
		}
	}
	if d, err := rt.Device(0); err != nil || d.Kind() != DeviceCPU {
		t.Fatalf("Device(0): %v %v", d, err)
	} else if s, err := d.SumF32(context.Background(), []float32{1, 2}); err != nil || s != 3 {
		t.Fatalf("Device(0).SumF32: %v %v", s, err)
	}
	if err := rt.PinDevice(0); err != nil || rt.PinnedDevice() != 0 {
		t.Fatal(err)
	}
	if err := rt.PinDevice(-1); err != nil || rt.PinnedDevice() != -1 {
		t.Fatal(err)
	}
	rt.Close()
	if err := rt.PinDevice(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("PinDevice after Close: %v", err)
	}
	if err := rt.Saxpy(context.Background(), 1, []float32{1}, []float32{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Saxpy after Close: %v", err)
	}
}

func TestBadConfigDispatch(t *testing.T) {
	for _, cfg := range []Config{{Strategy: "fastest"}, {MemFraction: 1.5}, {MemFraction: -0.1}} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
	}
}

// TestPinnedOpenCLKernels runs every built-in kernel pinned on the OpenCL device and compares
// it with the CPU, on fresh random inputs, odd sizes and misaligned host pointers, with the
// output poisoned before each run.
func TestPinnedDeviceKernels(t *testing.T) {
	probe := newDevRT(t, Config{})
	for _, idx := range accelIndexes(t, probe) {
		t.Run(fmt.Sprintf("device%d", idx), func(t *testing.T) { testPinnedKernels(t, idx) })
	}
}

func testPinnedKernels(t *testing.T, ocl int) {
	rt := newDevRT(t, Config{RecordDecisions: true})
	devs, _ := rt.Devices()
	t.Logf("device %d: %s (%s)", ocl, devs[ocl].Name, devs[ocl].Kind)
	cpu := newDevRT(t, Config{DisableGPU: true})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	if err := rt.PinDevice(ocl); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 1023, 4097, 1<<20 + 7} {
		x := misaligned(n)
		copy(x, randF32(r, n))
		y0 := randF32(r, n)
		y, yref := misaligned(n), slices.Clone(y0)
		copy(y, y0)
		if err := rt.Saxpy(ctx, 1.5, x, y); err != nil {
			t.Fatal(err)
		}
		if err := cpu.Saxpy(ctx, 1.5, x, yref); err != nil {
			t.Fatal(err)
		}
		for i := range y {
			if math.Abs(float64(y[i]-yref[i])) > 1e-6 {
				t.Fatalf("saxpy n=%d: y[%d] = %v, want %v", n, i, y[i], yref[i])
			}
		}
		got, err := rt.SumF32(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := cpu.SumF32(ctx, x)
		if math.Abs(got-want) > 1e-9*float64(n) {
			t.Fatalf("sum_f32 n=%d: %v, want %v", n, got, want)
		}
		got, err = rt.DotF32(ctx, x, y)
		if err != nil {
			t.Fatal(err)
		}
		want, _ = cpu.DotF32(ctx, x, y)
		if math.Abs(got-want) > 1e-9*float64(n) {
			t.Fatalf("dot_f32 n=%d: %v, want %v", n, got, want)
		}
	}
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {65, 33, 17}, {128, 96, 200}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randF32(r, m*k), randF32(r, k*n)
		c0 := randF32(r, m*n)
		c, cref := slices.Clone(c0), slices.Clone(c0)
		if err := rt.Sgemm(ctx, m, n, k, 0.5, a, k, b, n, 2, c, n); err != nil {
			t.Fatal(err)
		}
		if err := cpu.Sgemm(ctx, m, n, k, 0.5, a, k, b, n, 2, cref, n); err != nil {
			t.Fatal(err)
		}
		for i := range c {
			if math.Abs(float64(c[i]-cref[i])) > 1e-4*float64(k) {
				t.Fatalf("sgemm %v: c[%d] = %v, want %v", s, i, c[i], cref[i])
			}
		}
	}
	decs, _ := rt.Decisions()
	if len(decs) == 0 {
		t.Fatal("no decisions recorded")
	}
	for _, d := range decs {
		if d.Device != ocl || d.Reason != dispatch.ReasonPinned {
			t.Fatalf("pinned runtime decided %+v", d)
		}
	}
	devs, _ = rt.Devices()
	if st := devs[ocl].Stats; st.Completed == 0 || st.BytesToDevice == 0 || st.BusyTime <= 0 {
		t.Fatalf("OpenCL device stats not updated: %+v", st)
	}
	prom := rt.Metrics().Prometheus()
	if !strings.Contains(prom, fmt.Sprintf("veda_device_completed_total{device=\"%d\",kind=\"%s\"}", ocl, devs[ocl].Kind)) {
		t.Fatalf("Prometheus text lacks device metrics:\n%s", prom)
	}
	js, err := rt.Metrics().JSON()
	if err != nil || !strings.Contains(string(js), `"devices":[{"index":0,"kind":0`) || !strings.Contains(string(js), `"bytes_to_device"`) {
		t.Fatalf("metrics JSON lacks per-device stats: %s (%v)", js, err)
	}
}

const vaddCL = `__kernel void vadd(__global const float *a, __global const float *b, __global float *c, const float s, const int n) {
	int i = get_global_id(0);
	if (i < n) c[i] = a[i] + s * b[i];
}`

const vaddCUDA = `extern "C" __global__ void vadd(const float *a, const float *b, float *c, float s, int n) {
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) c[i] = a[i] + s * b[i];
}`

func TestUserKernel(t *testing.T) {
	probe := newDevRT(t, Config{})
	for _, idx := range accelIndexes(t, probe) {
		t.Run(fmt.Sprintf("device%d", idx), func(t *testing.T) { testUserKernel(t, idx) })
	}
}

func testUserKernel(t *testing.T, ocl int) {
	rt := newDevRT(t, Config{})
	if err := rt.PinDevice(ocl); err != nil {
		t.Fatal(err)
	}
	k, err := rt.Kernel(KernelSource{OpenCL: vaddCL, CUDA: vaddCUDA, Name: "vadd"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if !slices.Contains(k.Devices(), ocl) {
		t.Fatalf("kernel devices %v lack device %d", k.Devices(), ocl)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	for _, n := range []int{1, 3, 1023, 4097, 1<<20 + 7} {
		a, b := randF32(r, n), misaligned(n)
		copy(b, randF32(r, n))
		c := misaligned(n)
		for i := range c {
			c[i] = float32(math.NaN()) // poison
		}
		if err := k.Run(context.Background(), int64(n), In(a), In(b), Out(c), Scalar(float32(0.25)), Scalar(int32(n))); err != nil {
			t.Fatal(err)
		}
		for i := range c {
			if want := a[i] + 0.25*b[i]; c[i] != want {
				t.Fatalf("vadd n=%d: c[%d] = %v, want %v", n, i, c[i], want)
			}
		}
	}
	// Bad input.
	if err := k.Run(context.Background(), -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("n = -1: %v", err)
	}
	if err := k.Run(context.Background(), 4, RawArg(ArgKind(9), nil, 0)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad kind: %v", err)
	}
	if err := k.Run(context.Background(), 4, RawArg(ArgIn, nil, 16)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil buffer: %v", err)
	}
	if err := k.Run(context.Background(), 4, RawArg(ArgScalar, nil, 4)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil scalar: %v", err)
	}
	// Pinned to the CPU, which cannot run OpenCL C.
	if err := rt.PinDevice(0); err != nil {
		t.Fatal(err)
	}
	if err := k.Run(context.Background(), 4, In(make([]float32, 4))); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("pinned to CPU: %v", err)
	}
	rt.PinDevice(ocl)
	k.Close()
	if err := k.Run(context.Background(), 4, In(make([]float32, 4)), In(make([]float32, 4)), Out(make([]float32, 4)),
		Scalar(float32(1)), Scalar(int32(4))); err == nil {
		t.Fatal("Run after Close succeeded")
	}
}

func TestUserKernelCompileError(t *testing.T) {
	rt := newDevRT(t, Config{})
	openclIndex(t, rt)
	_, err := rt.Kernel(KernelSource{OpenCL: "__kernel void broken(__global float *x) { x[0] = undefined_name; }", Name: "broken"})
	if !errors.Is(err, ErrDevice) {
		t.Fatalf("compile error: %v", err)
	}
	if !strings.Contains(err.Error(), "undefined_name") {
		t.Fatalf("the error does not carry the build log: %v", err)
	}
	for _, src := range []KernelSource{{Name: "x"}, {OpenCL: "__kernel void k(){}"}} {
		if _, err := rt.Kernel(src); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Kernel(%+v): %v", src, err)
		}
	}
	// Only CUDA source, and no CUDA device here (or one: then it compiles).
	devs, _ := rt.Devices()
	hasCUDA := slices.ContainsFunc(devs, func(d DeviceInfo) bool { return d.Kind == DeviceCUDA })
	if _, err := rt.Kernel(KernelSource{CUDA: vaddCUDA, Name: "vadd"}); !hasCUDA && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("CUDA-only kernel without a CUDA device: %v", err)
	}
}

// TestFallbackAfterDeviceError makes a device call fail and checks that the call completes on
// the CPU, that the decision log says so, and that the device's failure is counted.
func TestFallbackAfterDeviceError(t *testing.T) {
	// The strategy puts the first attempt on the OpenCL device, whose attempt fails; the
	// dispatcher's fallback must then run the call on the CPU.
	rt := newDevRT(t, Config{RecordDecisions: true, CustomStrategy: preferDevice{}})
	ocl := openclIndex(t, rt)
	ds, _ := rt.devices()
	ranCPU, devCalls := false, 0
	kc := &kcall{name: "failing", bytes: 64 << 20, transfer: 64 << 20, devices: []int{0, ocl},
		cpu: func() error { ranCPU = true; return nil },
		dev: func(device.Device) (device.Timing, error) {
			devCalls++
			return device.Timing{}, &device.DeviceError{Backend: device.KindOpenCL, Op: "test", Name: "CL_OUT_OF_RESOURCES", Code: -5}
		}}
	if err := rt.runKernel(context.Background(), kc); err != nil {
		t.Fatalf("the fallback did not hide the device failure: %v", err)
	}
	decs, _ := rt.Decisions()
	if len(decs) != 2 {
		t.Fatalf("want 2 decisions (the device, then the fallback), got %+v", decs)
	}
	if decs[0].Device != ocl || decs[0].Kernel != "failing" || decs[0].Reason != "prefer a device" {
		t.Fatalf("first choice %+v, want the OpenCL device %d", decs[0], ocl)
	}
	if last := decs[1]; devCalls != 1 || !ranCPU || last.Reason != dispatch.ReasonFallback || last.Device != 0 {
		t.Fatalf("no fallback to the CPU: %+v (device calls %d, ranCPU %v)", decs, devCalls, ranCPU)
	}
	if st := ds.disp.Stats()[ocl]; st.Failed != 1 {
		t.Fatalf("failure not counted once: %+v", st)
	}
	// Pinned: the error is returned, not hidden.
	rt.PinDevice(ocl)
	if err := rt.runKernel(context.Background(), kc); !errors.Is(err, ErrDevice) {
		t.Fatalf("pinned failure: %v", err)
	}
	kc.dev = func(device.Device) (device.Timing, error) {
		return device.Timing{}, fmt.Errorf("%w: test", device.ErrOutOfMemory)
	}
	if err := rt.runKernel(context.Background(), kc); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("pinned OOM: %v", err)
	}
}

func TestDeterministicPolicyStaysOnCPU(t *testing.T) {
	rt := newDevRT(t, Config{Policy: PolicyDeterministic, Seed: 1, RecordDecisions: true})
	x := make([]float32, 3<<20) // 12 MiB: above the GPU threshold
	for i := range x {
		x[i] = float32(i%7) * 0.5
	}
	for range 4 {
		if _, err := rt.SumF32(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	decs, _ := rt.Decisions()
	if len(decs) != 4 {
		t.Fatalf("%d decisions recorded for 4 calls: %+v", len(decs), decs)
	}
	for _, d := range decs {
		if d.Device != 0 || d.Kernel != "sum_f32" {
			t.Fatalf("deterministic runtime ran on device %d: %+v", d.Device, d)
		}
	}
}

func TestDistributeFramesOrderAndErrors(t *testing.T) {
	rt := newDevRT(t, Config{})
	devs, _ := rt.Devices()
	n := 200
	frames := make([]int, n)
	for i := range frames {
		frames[i] = i
	}
	var mu sync.Mutex
	used := map[int]int{}
	res, err := DistributeFrames(context.Background(), rt, frames, func(d Device, f int) (string, error) {
		mu.Lock()
		used[d.Index()]++
		mu.Unlock()
		switch {
		case f == 17:
			return "", fmt.Errorf("frame seventeen is bad")
		case f == 42:
			panic("frame forty-two panics")
		}
		time.Sleep(50 * time.Microsecond)
		return fmt.Sprintf("f%d@%d", f, d.Index()), nil
	})
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errs) != n {
		t.Fatalf("err = %v", err)
	}
	for i := range frames {
		switch i {
		case 17:
			if be.Errs[i] == nil || !strings.Contains(be.Errs[i].Error(), "seventeen") {
				t.Fatalf("frame 17 error: %v", be.Errs[i])
			}
		case 42:
			var pe *PanicError
			if !errors.As(be.Errs[i], &pe) {
				t.Fatalf("frame 42 error: %v", be.Errs[i])
			}
		default:
			if be.Errs[i] != nil || !strings.HasPrefix(res[i], fmt.Sprintf("f%d@", i)) {
				t.Fatalf("frame %d: %q, %v", i, res[i], be.Errs[i])
			}
		}
	}
	if !errors.Is(err, ErrTaskFailed) {
		t.Fatalf("errors.Is(err, ErrTaskFailed) is false for a panicking frame: %v", err)
	}
	t.Logf("frames per device (%d devices): %v", len(devs), used)

	// Cancellation: frames not started fail with ErrCancelled.
	ctx, cancel := context.WithCancel(context.Background())
	_, err = DistributeFrames(ctx, rt, frames, func(d Device, f int) (int, error) {
		if f == 5 {
			cancel()
		}
		return f, nil
	})
	if !errors.As(err, &be) || !errors.Is(be.Errs[n-1], ErrCancelled) {
		t.Fatalf("after cancel: %v", err)
	}
	if _, err := DistributeFrames[int, int](context.Background(), rt, frames, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil work: %v", err)
	}
	if _, err := DistributeFramesWith(context.Background(), rt, frames, DistributeOptions[int]{Devices: []int{99}},
		func(Device, int) (int, error) { return 0, nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad device: %v", err)
	}
}

func TestDistributeSumF32(t *testing.T) {
	rt := newDevRT(t, Config{})
	cpu := newDevRT(t, Config{DisableGPU: true})
	r := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	var xs [][]float32
	for i := range 24 {
		xs = append(xs, randF32(r, 1+i*9973))
	}
	sums, err := rt.DistributeSumF32(context.Background(), xs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		want, _ := cpu.SumF32(context.Background(), x)
		if math.Abs(sums[i]-want) > 1e-9*float64(len(x)) {
			t.Fatalf("sum %d: %v, want %v", i, sums[i], want)
		}
	}
}

// TestDispatchPlacementCPUvsOpenCL: with the CPU and PoCL, after calibration the policy sends
// each (kernel, size) to whichever device is faster when each is pinned, measured in the same
// test; a tie within 20% accepts either.
func TestDispatchPlacementCPUvsOpenCL(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	rt := newDevRT(t, Config{})
	ocl := openclIndex(t, rt)
	ctx := context.Background()
	type job struct {
		name string
		n    int
		run  func() error
	}
	r := rand.New(rand.NewPCG(5, 5))
	mk := func(n int) ([]float32, []float32) { return randF32(r, n), randF32(r, n) }
	var jobs []job
	for _, n := range []int{4 << 10, 1 << 20} {
		x, y := mk(n)
		jobs = append(jobs,
			job{"sum_f32", n, func() error { _, err := rt.SumF32(ctx, x); return err }},
			job{"saxpy_f32", n, func() error { return rt.Saxpy(ctx, 1.0001, x, y) }})
	}
	median := func(f func() error, reps int) time.Duration {
		ts := make([]time.Duration, reps)
		for i := range ts {
			start := time.Now()
			if err := f(); err != nil {
				t.Fatal(err)
			}
			ts[i] = time.Since(start)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		return ts[reps/2]
	}
	for _, j := range jobs {
		// Calibrate under automatic dispatch (exploration measures both devices).
		rt.PinDevice(-1)
		for range 40 {
			if err := j.run(); err != nil {
				t.Fatal(err)
			}
		}
		rt.SetRecordDecisions(true)
		for range 15 {
			j.run()
		}
		rt.SetRecordDecisions(false)
		decs, _ := rt.Decisions()
		rt.dev.disp.ClearDecisions()
		votes := map[int]int{}
		for _, d := range decs {
			if d.Kernel == j.name && d.Reason != dispatch.ReasonExploration {
				votes[d.Device]++
			}
		}
		chosen := 0
		if votes[ocl] > votes[0] {
			chosen = ocl
		}
		// Pinned timings, measured now, after the automatic runs.
		rt.PinDevice(0)
		tc := median(j.run, 9)
		rt.PinDevice(ocl)
		to := median(j.run, 9)
		rt.PinDevice(-1)
		faster, ratio := 0, float64(to)/float64(tc)
		if to < tc {
			faster, ratio = ocl, float64(tc)/float64(to)
		}
		t.Logf("%s n=%d: cpu %v, opencl %v, votes %v, chosen %d, faster %d", j.name, j.n, tc, to, votes, chosen, faster)
		if chosen != faster && ratio > 1.2 {
			t.Errorf("%s n=%d: dispatch chose device %d, but device %d is %.2fx faster (cpu %v, opencl %v)",
				j.name, j.n, chosen, faster, ratio, tc, to)
		}
	}
}

// preferDevice is a Strategy that places every call on its last candidate that is not the CPU.
type preferDevice struct{}

func (preferDevice) Name() string { return "prefer-device" }

func (preferDevice) Choose(_ *DispatchRequest, cands []DispatchCandidate) DispatchChoice {
	c := DispatchChoice{Device: cands[0].Device, Reason: "prefer a device"}
	for _, x := range cands {
		if x.Kind != dispatch.KindCPU {
			c.Device = x.Device
		}
	}
	return c
}
