package goveda

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// Admission (internal/sched/admission.go): kernel calls, Device methods, DistributeFrames and
// Kernel.Run are admitted like CPU work, so Close waits for them, and the work they start after
// Close began is still admitted.

// closeAsync starts rt.Close and returns a channel closed when it returned.
func closeAsync(rt *Runtime) <-chan struct{} {
	done := make(chan struct{})
	go func() { rt.Close(); close(done) }()
	return done
}

// closeIsWaiting fails t if Close already returned; it gives Close time to finish wrongly.
func closeIsWaiting(t *testing.T, closed <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-closed:
		t.Fatalf("Close returned while %s was in flight", what)
	case <-time.After(100 * time.Millisecond):
	}
}

// A DistributeFrames batch is in flight (its work function blocks); Close must wait for it, and
// the Device methods the work function calls after Close began must still run.
func TestCloseWaitsForDistributeFrames(t *testing.T) {
	rt, err := New(Config{Workers: 2, DisableGPU: true})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	x := make([]float32, 1<<18) // large enough for the CPU path's ParallelFor
	for i := range x {
		x[i] = 1
	}
	done := make(chan error, 1)
	var sums []float64
	go func() {
		var err error
		sums, err = DistributeFrames(context.Background(), rt, [][]float32{x, x}, func(d Device, f []float32) (float64, error) {
			if once.CompareAndSwap(false, true) {
				close(started)
			}
			<-release
			return d.SumF32(context.Background(), f)
		})
		done <- err
	}()
	<-started
	closed := closeAsync(rt)
	closeIsWaiting(t, closed, "DistributeFrames")
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("DistributeFrames after Close began: %v", err)
	}
	<-closed
	for i, s := range sums {
		if s != float64(len(x)) {
			t.Fatalf("frame %d: sum %v, want %d", i, s, len(x))
		}
	}
	if _, err := rt.SumF32(context.Background(), x); !errors.Is(err, ErrClosed) {
		t.Fatalf("kernel call after Close: %v, want ErrClosed", err)
	}
	if _, err := DistributeFrames(context.Background(), rt, [][]float32{x}, func(d Device, f []float32) (float64, error) { return 0, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("DistributeFrames after Close: %v, want ErrClosed", err)
	}
}

// A Scope called from outside holds its admission: Close waits for it, and a ParallelFor that
// its function starts after Close began still runs.
func TestCloseWaitsForOutsideScope(t *testing.T) {
	rt, err := New(Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	var n atomic.Int64
	go func() {
		done <- rt.Scope(context.Background(), func(s *Scope) {
			close(started)
			<-release
			if err := rt.ParallelFor(context.Background(), 0, 1000, 1, func(lo, hi int) error {
				n.Add(int64(hi - lo))
				return nil
			}); err != nil {
				s.Spawn(func() error { return err })
			}
		})
	}()
	<-started
	closed := closeAsync(rt)
	closeIsWaiting(t, closed, "Scope")
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Scope: %v", err)
	}
	<-closed
	if n.Load() != 1000 {
		t.Fatalf("ParallelFor covered %d indices, want 1000", n.Load())
	}
}

// busyKernel spins for about iters iterations per work item, so a launch stays in flight, then
// sets its item's flag.
const busyKernel = `__kernel void busy(__global float *x, __global int *flag, const int iters) {
	int i = get_global_id(0); float a = x[i];
	for (int k = 0; k < iters; k++) { a = a * 0.999f + 0.001f; }
	x[i] = a;
	flag[i] = 1;
}`

// A user kernel launch on an OpenCL device is in flight; Close must wait for it (Kernel.Run goes
// through the same admission as CPU work): when Close returns, the launch has finished and its
// results are copied back.
func TestCloseWaitsForKernelRun(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	dev := openclIndex(t, rt)
	if err := rt.PinDevice(dev); err != nil {
		t.Fatal(err)
	}
	k, err := rt.Kernel(KernelSource{Name: "busy", OpenCL: busyKernel})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	x := make([]float32, 64)
	flag := make([]int32, len(x))
	// Calibrate: grow iters until one launch takes at least 300 ms.
	iters := int32(1 << 16)
	for {
		start := time.Now()
		if err := k.Run(context.Background(), int64(len(x)), InOut(x), Out(flag), Scalar(iters)); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 300*time.Millisecond || iters > 1<<28 {
			break
		}
		iters *= 4
	}
	clear(flag)
	var returned atomic.Bool
	done := make(chan error, 1)
	go func() {
		err := k.Run(context.Background(), int64(len(x)), InOut(x), Out(flag), Scalar(iters))
		returned.Store(true)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // the launch is in flight (it takes >= 300 ms)
	if returned.Load() {
		t.Skip("the launch finished before Close could be called")
	}
	<-closeAsync(rt)
	// Close's drain is ordered after Run's copy-back (Run exits its admission last), so
	// reading flag here is race-free, and every flag must be set.
	for i, f := range flag {
		if f != 1 {
			t.Fatalf("Close returned before the in-flight Kernel.Run finished (flag[%d] = %d)", i, f)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Kernel.Run in flight during Close: %v", err)
	}
}
