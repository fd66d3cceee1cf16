package goveda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
)

const chainKernelCL = `__kernel void scale_by(__global float *z, __global const float *y, __global const double *dot, const long n) {
    long i = get_global_id(0);
    if (i < n) z[i] = y[i] * (float)dot[0];
}`

const chainKernelCU = `extern "C" __global__ void scale_by(float *z, const float *y, const double *dot, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) z[i] = y[i] * (float)dot[0];
}`

// saxpy -> dot -> user kernel on buffers resident on each accelerator: every element checked,
// no copy between the writes of the inputs and the read of the result, and no dispatch.
func TestBufferChainOnDevice(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, RecordDecisions: true})
	ctx := context.Background()
	for _, dev := range accelIndexes(t, rt) {
		t.Run(fmt.Sprint(dev), func(t *testing.T) {
			const n = 50_001
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(i%11) * 0.25
				y[i] = float32(i%3) - 1
			}
			bx, err := ToDevice(ctx, rt, dev, x)
			if err != nil {
				t.Fatal(err)
			}
			defer bx.Destroy()
			by, err := ToDevice(ctx, rt, dev, y)
			if err != nil {
				t.Fatal(err)
			}
			defer by.Destroy()
			bz, _ := rt.Buffer(dev, n*4)
			defer bz.Destroy()
			bdot, _ := rt.Buffer(dev, 8)
			defer bdot.Destroy()
			k, err := rt.Kernel(KernelSource{OpenCL: chainKernelCL, CUDA: chainKernelCU, Name: "scale_by"})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			before, _ := rt.DeviceTransfers(dev)
			decisions, _ := rt.Decisions()
			if err := rt.SaxpyBuffer(ctx, 0.5, bx, by, n); err != nil {
				t.Fatal(err)
			}
			if _, err := rt.DotF32Buffer(ctx, bx, by, n, bdot); err != nil {
				t.Fatal(err)
			}
			if err := k.Run(ctx, n, BufferArg(bz), BufferArg(by), BufferArg(bdot), Scalar(int64(n))); err != nil {
				t.Fatal(err)
			}
			after, _ := rt.DeviceTransfers(dev)
			if after != before {
				t.Fatalf("the chain copied data: %+v -> %+v", before, after)
			}
			devs, _ := rt.Devices()
			if devs[dev].Transfers != after {
				t.Fatalf("Devices()[%d].Transfers = %+v, want %+v", dev, devs[dev].Transfers, after)
			}
			if d2, _ := rt.Decisions(); len(d2) != len(decisions) {
				t.Fatalf("resident calls were dispatched: %d -> %d decisions", len(decisions), len(d2))
			}
			dot, err := ToHost[float64](ctx, bdot)
			if err != nil {
				t.Fatal(err)
			}
			gy, _ := ToHost[float32](ctx, by)
			gz, _ := ToHost[float32](ctx, bz)
			var ref float64
			for i := range x {
				wy := 0.5*x[i] + y[i]
				if gy[i] != wy {
					t.Fatalf("y[%d] = %v, want %v", i, gy[i], wy)
				}
				ref += float64(x[i]) * float64(wy)
			}
			if math.Abs(dot[0]-ref) > 1e-9*math.Abs(ref)+1e-9 {
				t.Fatalf("dot = %v, want %v", dot[0], ref)
			}
			for i := range gz {
				if want := gy[i] * float32(dot[0]); gz[i] != want {
					t.Fatalf("z[%d] = %v, want %v", i, gz[i], want)
				}
			}
			// The dot read back equals the one kept on the device, bit for bit.
			if v, err := rt.DotF32Buffer(ctx, bx, by, n, nil); err != nil || v != dot[0] {
				t.Fatalf("dot read back = %v (%v), kept = %v", v, err, dot[0])
			}
		})
	}
}

// The CPU (device 0) has buffers too: the same chain of built-ins, with the deterministic
// results of the host kernels.
func TestBufferOnCPU(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, DisableGPU: true})
	ctx := context.Background()
	const n = 70_000
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i%7), 1
	}
	bx, _ := ToDevice(ctx, rt, 0, x)
	by, _ := ToDevice(ctx, rt, 0, y)
	out, _ := rt.Buffer(0, 8)
	if err := rt.SaxpyBuffer(ctx, 2, bx, by, n); err != nil {
		t.Fatal(err)
	}
	for i := range y {
		y[i] = 2*x[i] + 1
	}
	want, _ := rt.DotF32(ctx, x, y)
	got, err := rt.DotF32Buffer(ctx, bx, by, n, nil)
	if err != nil || got != want {
		t.Fatalf("DotF32Buffer = %v (%v), want %v", got, err, want)
	}
	if _, err := rt.DotF32Buffer(ctx, bx, by, n, out); err != nil {
		t.Fatal(err)
	}
	if v, _ := ToHost[float64](ctx, out); v[0] != want {
		t.Fatalf("dot kept in a buffer = %v, want %v", v[0], want)
	}
	ws, _ := rt.SumF32(ctx, y)
	if s, err := rt.SumF32Buffer(ctx, by, n, nil); err != nil || s != ws {
		t.Fatalf("SumF32Buffer = %v (%v), want %v", s, err, ws)
	}
	for _, b := range []*Buffer{bx, by, out} {
		if err := b.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBufferBadInput(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	var err error
	ctx := context.Background()
	inv := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%s: err = %v, want ErrInvalidArgument", what, err)
		}
	}
	devs, _ := rt.Devices()
	for _, d := range devs {
		_, err := rt.Buffer(d.Index, 0)
		inv("zero bytes", err)
		_, err = rt.Buffer(d.Index, int64(d.MemoryBytes)+1)
		inv("more than the device's memory", err)
		b, err := rt.Buffer(d.Index, 64)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 100)
		inv("write out of range", Write(ctx, b, 60, p[:8]))
		inv("read out of range", Read(ctx, b, 1, make([]float64, 8)))
		inv("negative offset", Write(ctx, b, -1, p[:1]))
		inv("saxpy longer than the buffers", rt.SaxpyBuffer(ctx, 1, b, b, 17))
		inv("saxpy n = 0", rt.SaxpyBuffer(ctx, 1, b, b, 0))
		if err := b.Destroy(); err != nil {
			t.Fatal(err)
		}
		inv("destroy twice", b.Destroy())
		inv("write after destroy", Write(ctx, b, 0, p[:4]))
		inv("read after destroy", Read(ctx, b, 0, p[:4]))
		_, err = rt.DotF32Buffer(ctx, b, b, 4, nil)
		inv("dot after destroy", err)
	}
	_, err = rt.Buffer(len(devs), 64)
	inv("device that does not exist", err)
	if len(devs) > 1 {
		a, _ := rt.Buffer(0, 64)
		b, _ := rt.Buffer(1, 64)
		inv("saxpy across devices", rt.SaxpyBuffer(ctx, 1, a, b, 16))
		_, err := rt.DotF32Buffer(ctx, b, b, 16, a)
		inv("dot with its output on another device", err)
		k, err := rt.Kernel(KernelSource{OpenCL: chainKernelCL, Name: "scale_by"})
		if err != nil {
			t.Fatal(err)
		}
		inv("kernel across devices", k.Run(ctx, 16, BufferArg(b), BufferArg(b), BufferArg(a), Scalar(int64(16))))
		inv("kernel with a nil buffer", k.Run(ctx, 16, BufferArg(nil), BufferArg(b), BufferArg(b), Scalar(int64(16))))
		if err := k.Run(ctx, 16, BufferArg(a), BufferArg(a), BufferArg(a), Scalar(int64(16))); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("user kernel on CPU buffers: %v, want ErrUnsupported", err)
		}
		inv("local size that does not divide the global size",
			k.RunND(ctx, [3]int64{16, 1, 1}, [3]int64{3, 1, 1}, BufferArg(b), BufferArg(b), BufferArg(b), Scalar(int64(16))))
		k.Close()
		a.Destroy()
		b.Destroy()
	}
	other, _ := New(Config{Workers: 1, DisableGPU: true})
	defer other.Close()
	ob, _ := other.Buffer(0, 64)
	mine, _ := rt.Buffer(0, 64)
	inv("buffer of another runtime", rt.SaxpyBuffer(ctx, 1, mine, ob, 4))
}

// Asynchronous operations on one device's queue keep their order: a write, then n kernel
// launches each adding 1 in place, then a read, all issued without waiting, see exactly n
// increments; Futures of several devices overlap from one goroutine.
func TestBufferAsyncOrder(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	ctx := context.Background()
	const inc = `__kernel void inc(__global float *x, const long n) { long i = get_global_id(0); if (i < n) x[i] += 1.0f; }`
	const incCU = `extern "C" __global__ void inc(float *x, long long n) { long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] += 1.0f; }`
	devs := accelIndexes(t, rt)
	k, err := rt.Kernel(KernelSource{OpenCL: inc, CUDA: incCU, Name: "inc"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	const n, rounds = 4096, 25
	type run struct {
		b   *Buffer
		out []float32
		fs  []*Future[struct{}]
	}
	var runs []*run
	for _, dev := range append([]int{0}, devs...) {
		b, err := rt.Buffer(dev, n*4)
		if err != nil {
			t.Fatal(err)
		}
		r := &run{b: b, out: make([]float32, n)}
		start := make([]float32, n)
		for i := range start {
			start[i] = float32(i)
		}
		r.fs = append(r.fs, WriteAsync(b, 0, start))
		for j := 0; j < rounds; j++ {
			if dev == 0 {
				// The CPU has no user kernels: saxpy with a = 0 on itself keeps the
				// order test meaningful there (x + 0*x), and the writes after it too.
				r.fs = append(r.fs, rt.SaxpyBufferAsync(0, b, b, n))
			} else {
				r.fs = append(r.fs, k.RunAsync(n, BufferArg(b), Scalar(int64(n))))
			}
		}
		r.fs = append(r.fs, ReadAsync(b, 0, r.out))
		runs = append(runs, r)
	}
	for ri, r := range runs {
		for _, f := range r.fs {
			if _, err := f.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		add := float32(rounds)
		if r.b.Device() == 0 {
			add = 0
		}
		for i, v := range r.out {
			if v != float32(i)+add {
				t.Fatalf("run %d (device %d): out[%d] = %v, want %v", ri, r.b.Device(), i, v, float32(i)+add)
			}
		}
		r.b.Destroy()
	}
}

// Many goroutines use buffers of one device at once: each its own buffer, results exact.
func TestBufferConcurrent(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	ctx := context.Background()
	devs, _ := rt.Devices()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			dev := g % len(devs)
			x := make([]float32, 1000)
			for i := range x {
				x[i] = float32(g)
			}
			for it := 0; it < 10; it++ {
				b, err := ToDevice(ctx, rt, dev, x)
				if err != nil {
					errs <- err
					return
				}
				if err := rt.SaxpyBuffer(ctx, 1, b, b, len(x)); err != nil {
					errs <- err
					return
				}
				got, err := ToHost[float32](ctx, b)
				if err != nil {
					errs <- err
					return
				}
				for i := range got {
					if got[i] != 2*float32(g) {
						errs <- fmt.Errorf("goroutine %d device %d: got[%d] = %v", g, dev, i, got[i])
						return
					}
				}
				if err := b.Destroy(); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A callback of a device-queue Future may call back into the same device's queue synchronously.
func TestBufferFutureCallbackMayUseTheQueue(t *testing.T) {
	rt := newRT(t, Config{Workers: 2, DisableGPU: true})
	ctx := context.Background()
	b, _ := ToDevice(ctx, rt, 0, []float32{1, 2, 3})
	done := make(chan []float32, 1)
	WriteAsync(b, 0, []float32{7, 8, 9}).Then(func(struct{}, error) {
		got, _ := ToHost[float32](ctx, b) // a synchronous read on the same queue
		done <- got
	})
	got := <-done
	if got[0] != 7 || got[2] != 9 {
		t.Fatalf("read in the callback: %v", got)
	}
	b.Destroy()
}
