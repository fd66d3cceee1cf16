package goveda

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/device"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Device is a handle on one device of a runtime, given to DistributeFrames' work function. Its
// kernel methods run on that device directly (no dispatch decision, no fallback).
type Device struct {
	rt    *Runtime
	index int
	g     device.Device // nil for the CPU
}

// Device returns a handle on device index of rt. Its kernel methods run on that device
// directly: no dispatch decision, no fallback, not counted in the device statistics (for static
// placements, benchmarks, and callers that know best; PinDevice pins the dispatched calls
// instead). An index that does not exist wraps ErrInvalidArgument. Any goroutine.
func (rt *Runtime) Device(index int) (Device, error) {
	if err := rt.checkOpen(); err != nil {
		return Device{}, err
	}
	ds, err := rt.devices()
	if err != nil {
		return Device{}, err
	}
	if index < 0 || index >= len(ds.infos) {
		return Device{}, invalidf("Device: index %d does not exist (devices 0..%d)", index, len(ds.infos)-1)
	}
	d := Device{rt: rt, index: index}
	if index > 0 {
		d.g = ds.gpus[index-1]
	}
	return d, nil
}

// Index returns the device's index (0 is the CPU).
func (d Device) Index() int { return d.index }

// Kind returns the device's kind.
func (d Device) Kind() DeviceKind {
	if d.g == nil {
		return DeviceCPU
	}
	return DeviceKind(d.g.Kind())
}

// Name returns the device's name.
func (d Device) Name() string {
	if ds, err := d.rt.devices(); err == nil && d.index < len(ds.infos) {
		return ds.infos[d.index].Name
	}
	return ""
}

// Saxpy runs y = a*x + y on d.
func (d Device) Saxpy(ctx context.Context, a float32, x, y []float32) error {
	if len(x) != len(y) {
		return invalidf("Saxpy: len(x) is %d, len(y) is %d; they must be equal", len(x), len(y))
	}
	if err := d.rt.enterHeld(); err != nil {
		return err
	}
	defer d.rt.pool.ExitHeld()
	if d.g == nil {
		return d.rt.saxpyCPU(ctx, a, x, y)
	}
	_, err := d.g.Saxpy(a, x, y)
	return mapDeviceError(err)
}

// SumF32 returns the sum of x computed on d (accumulated in float64).
func (d Device) SumF32(ctx context.Context, x []float32) (float64, error) {
	if err := d.rt.enterHeld(); err != nil {
		return 0, err
	}
	defer d.rt.pool.ExitHeld()
	if d.g == nil {
		return d.rt.sumF32CPU(ctx, x)
	}
	r, _, err := d.g.SumF32(x)
	return r, mapDeviceError(err)
}

// SumF64 returns the sum of x computed on d (ErrUnsupported on a device without fp64).
func (d Device) SumF64(ctx context.Context, x []float64) (float64, error) {
	if err := d.rt.enterHeld(); err != nil {
		return 0, err
	}
	defer d.rt.pool.ExitHeld()
	if d.g == nil {
		return d.rt.sumF64CPU(ctx, x)
	}
	r, _, err := d.g.SumF64(x)
	return r, mapDeviceError(err)
}

// DotF32 returns the dot product of x and y computed on d.
func (d Device) DotF32(ctx context.Context, x, y []float32) (float64, error) {
	if len(x) != len(y) {
		return 0, invalidf("DotF32: len(x) is %d, len(y) is %d; they must be equal", len(x), len(y))
	}
	if err := d.rt.enterHeld(); err != nil {
		return 0, err
	}
	defer d.rt.pool.ExitHeld()
	if d.g == nil {
		return d.rt.dotF32CPU(ctx, x, y)
	}
	r, _, err := d.g.DotF32(x, y)
	return r, mapDeviceError(err)
}

// Sgemm runs C = alpha*A*B + beta*C on d (arguments as Runtime.Sgemm).
func (d Device) Sgemm(ctx context.Context, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if err := checkSgemm("Device.Sgemm", m, n, k, alpha, a, lda, b, ldb, c, ldc); err != nil {
		return err
	}
	if err := d.rt.enterHeld(); err != nil {
		return err
	}
	defer d.rt.pool.ExitHeld()
	if d.g == nil || m == 0 || n == 0 || k == 0 || alpha == 0 {
		return d.rt.sgemmCPU(ctx, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	_, err := d.g.Sgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	return mapDeviceError(err)
}

// BatchError is DistributeFrames' error when some frames failed: Errs[i] is frame i's error
// (nil for frames that succeeded). errors.Is and errors.As look through every frame's error.
type BatchError struct {
	Errs []error
}

// Error summarizes the failures: how many, and the first few with their frame index.
func (e *BatchError) Error() string {
	var b strings.Builder
	n := 0
	for i, err := range e.Errs {
		if err == nil {
			continue
		}
		if n < 3 {
			fmt.Fprintf(&b, "; frame %d: %v", i, err)
		}
		n++
	}
	return fmt.Sprintf("veda: %d of %d frames failed%s", n, len(e.Errs), b.String())
}

// Unwrap returns the frames' non-nil errors.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// DistributeOptions tunes DistributeFramesWith. Zero fields take the defaults.
type DistributeOptions[T any] struct {
	// Kernel names the work for the cost model and the decision log (default "distribute").
	Kernel string
	// Size returns a frame's size in bytes, for the cost model's size buckets and the GPU
	// threshold (default: every frame counts as 0 bytes, one bucket).
	Size func(T) uint64
	// Devices restricts the devices (default: all of the runtime's devices).
	Devices []int
}

// DistributeFrames spreads frames across all of rt's devices with rt's strategy (each device
// runs one frame at a time; the strategy learns each device's time per frame as it goes) and
// returns the results in input order. work is called once per frame, on some goroutine, with the
// device chosen for it. A frame that fails (an error, or a panic, recovered as *PanicError) leaves
// its zero R in place; the other frames still run, and the error is a *BatchError that attributes
// each failure to its frame. Cancelling ctx stops starting frames; those not started fail with
// the cancellation. Any goroutine; blocks until every started frame finished.
func DistributeFrames[T, R any](ctx context.Context, rt *Runtime, frames []T, work func(Device, T) (R, error)) ([]R, error) {
	return DistributeFramesWith(ctx, rt, frames, DistributeOptions[T]{}, work)
}

// DistributeFramesWith is DistributeFrames with options.
func DistributeFramesWith[T, R any](ctx context.Context, rt *Runtime, frames []T, opts DistributeOptions[T],
	work func(Device, T) (R, error)) ([]R, error) {
	if work == nil {
		return nil, invalidf("DistributeFrames: work is nil")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := rt.enterHeld(); err != nil {
		return nil, err
	}
	defer rt.pool.ExitHeld()
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	for _, i := range opts.Devices {
		if i < 0 || i >= len(ds.infos) {
			return nil, invalidf("DistributeFrames: device %d does not exist (devices 0..%d)", i, len(ds.infos)-1)
		}
	}
	kernel := opts.Kernel
	if kernel == "" {
		kernel = "distribute"
	}
	results := make([]R, len(frames))
	errs := make([]error, len(frames))
	if len(frames) == 0 {
		return results, nil
	}

	type job struct {
		i   int
		dec dispatch.Decision
	}
	ndev := len(ds.infos)
	queues := make([]chan job, ndev)
	// inflight bounds frames chosen but not finished to two per device, so that placement uses
	// fresh measurements (decisions made far ahead would all rest on the first estimates).
	inflight := make(chan struct{}, 2*ndev)
	var wg sync.WaitGroup
	for d := 0; d < ndev; d++ {
		queues[d] = make(chan job, len(frames))
		h := Device{rt: rt, index: d}
		if d > 0 {
			h.g = ds.gpus[d-1]
		}
		wg.Add(1)
		go func() { // one runner per device: a device runs one frame at a time
			defer wg.Done()
			rt.pool.AdoptHeld() // under the batch's admission: Close waits for this runner
			defer rt.pool.ExitHeld()
			for j := range queues[d] {
				start := time.Now()
				r, err := runFrame(work, h, frames[j.i])
				t := dispatch.Timing{Compute: time.Since(start)}
				results[j.i], errs[j.i] = r, err
				ds.disp.End(j.dec, t, err)
				<-inflight
			}
		}()
	}
	pin := int(ds.pinned.Load())
	for i := range frames {
		if err := ctx.Err(); err != nil {
			for ; i < len(frames); i++ {
				errs[i] = ctxErr(ctx)
			}
			break
		}
		inflight <- struct{}{}
		req := dispatch.Request{Kernel: kernel, Devices: opts.Devices, Elements: 1}
		if opts.Size != nil {
			req.Bytes = opts.Size(frames[i])
			req.TransferBytes = req.Bytes
		}
		if pin >= 0 {
			req.Pinned, req.Device = true, pin
		}
		dec, err := ds.disp.Choose(req)
		if err != nil {
			errs[i] = wrap(ErrInternal, err)
			<-inflight
			continue
		}
		queues[dec.Device] <- job{i: i, dec: dec}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return results, &BatchError{Errs: errs}
		}
	}
	return results, nil
}

// runFrame calls work, turning a panic into a *PanicError.
func runFrame[T, R any](work func(Device, T) (R, error), d Device, f T) (r R, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(d.rt.pool, v)
		}
	}()
	return work(d, f)
}

// DistributeSumF32 sums each array of xs on the device the strategy picks for it (a batch of
// built-in sums spread over all devices); sums[i] is the sum of xs[i]. Errors as DistributeFrames.
func (rt *Runtime) DistributeSumF32(ctx context.Context, xs [][]float32) ([]float64, error) {
	return DistributeFramesWith(ctx, rt, xs, DistributeOptions[[]float32]{
		Kernel: "sum_f32",
		Size:   func(x []float32) uint64 { return bytesOf(len(x), 4) },
	}, func(d Device, x []float32) (float64, error) { return d.SumF32(ctx, x) })
}
