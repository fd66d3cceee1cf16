package goveda

import (
	"context"
	"fmt"

	"github.com/veda-runtime/veda/goveda/internal/device"
)

// User kernels beyond 1-D, on resident buffers, and asynchronous.

// ArgBuffer is the kind of a resident-buffer argument (VEDA_ARG_BUFFER in the C ABI): the kernel
// reads and writes the Buffer on its device, and nothing is copied.
const ArgBuffer ArgKind = 4

// BufferArg passes b to a kernel in place (a __global T* / T* parameter). A kernel call whose
// buffer arguments are all on one device runs on that device with no dispatch decision (host
// In/Out/InOut arguments of the same call are still copied); buffers of two devices are an
// error.
func BufferArg(b *Buffer) Arg { return Arg{a: device.Arg{Kind: device.ArgBuffer}, buf: b} }

// bufferDevice returns the device of the call's buffer arguments, -1 when there is none, or an
// error (nil buffer, another runtime, two devices).
func (k *Kernel) bufferDevice(args []Arg) (int, error) {
	var bufs []*Buffer
	for i, a := range args {
		if a.a.Kind == device.ArgBuffer {
			if a.buf == nil {
				return -1, invalidf("Kernel %q: argument %d: nil buffer", k.name, i)
			}
			bufs = append(bufs, a.buf)
		}
	}
	if len(bufs) == 0 {
		return -1, nil
	}
	return sameDevice(k.rt, fmt.Sprintf("Kernel %q", k.name), bufs...)
}

// RunND launches the kernel over a global range of up to 3 dimensions (set unused extents to
// 1) in work-groups (OpenCL) or blocks (CUDA) of local; local all zero lets the driver choose
// (CUDA: 256 threads in x). The shape is checked against the device first: every global extent
// >= 1 with a product <= 2^40; local extents within the device's limits and its work-group size;
// on OpenCL each global extent a multiple of the local one. CUDA rounds the grid up, so a CUDA
// kernel bound-checks its indices. A failed check wraps ErrInvalidArgument and nothing runs.
// Arguments and the choice of device are as Run, plus BufferArg. Blocks until done.
func (k *Kernel) RunND(ctx context.Context, global, local [3]int64, args ...Arg) error {
	_, err := k.RunNDAsync(global, local, args...).Wait(ctx)
	return err
}

// RunAsync is Run returning a Future at once. With buffer arguments it is queued on their
// device's queue (order with that device's other operations kept); otherwise it runs on its
// own goroutine, placed by the dispatcher like Run. Host memory of In/Out/InOut arguments must
// stay valid and untouched until the Future is done.
func (k *Kernel) RunAsync(n int64, args ...Arg) *Future[struct{}] {
	if n < 0 {
		return failedFuture[struct{}](k.rt, invalidf("Kernel %q: n is %d, must be >= 0", k.name, n))
	}
	if n == 0 {
		return enqueueNow(k.rt, func() error { return k.Run(context.Background(), 0, args...) })
	}
	return k.RunNDAsync([3]int64{n, 1, 1}, [3]int64{}, args...)
}

// RunNDAsync is RunND returning a Future at once (see RunAsync).
func (k *Kernel) RunNDAsync(global, local [3]int64, args ...Arg) *Future[struct{}] {
	dev, err := k.bufferDevice(args)
	if err != nil {
		return failedFuture[struct{}](k.rt, err)
	}
	dargs, err := k.checkArgs(args)
	if err != nil {
		return failedFuture[struct{}](k.rt, err)
	}
	if dev == 0 {
		return failedFuture[struct{}](k.rt, fmt.Errorf("%w: kernel %q: user kernels do not run on the CPU (device 0), where the buffers are", ErrUnsupported, k.name))
	}
	// Counted from here until the launch finished, so Close waits for it.
	if err := k.admit(); err != nil {
		return failedFuture[struct{}](k.rt, err)
	}
	if dev > 0 {
		ds := &k.rt.dev
		g := ds.gpus[dev-1]
		k.mu.Lock()
		dk, closed := k.byDev[g], k.closed
		k.mu.Unlock()
		if closed {
			k.runs.Done()
			return failedFuture[struct{}](k.rt, fmt.Errorf("%w: kernel %q was closed", ErrClosed, k.name))
		}
		if dk == nil {
			k.runs.Done()
			return failedFuture[struct{}](k.rt, fmt.Errorf("%w: kernel %q has no build for device %d, where its buffers are (it runs on %v)", ErrUnsupported, k.name, dev, k.devices))
		}
		for i, a := range args {
			if a.a.Kind == device.ArgBuffer {
				dargs[i] = device.BufferArg(a.buf.res)
			}
		}
		if err := dk.CheckLaunch(global, local); err != nil {
			k.runs.Done()
			return failedFuture[struct{}](k.rt, mapDeviceError(err))
		}
		return k.doneWith(enqueue(k.rt, dev, func() (struct{}, error) {
			_, err := dk.RunND(global, local, dargs...)
			return struct{}{}, mapDeviceError(err)
		}))
	}
	// No buffers: dispatched like Run, on its own goroutine.
	return k.doneWith(enqueueNow(k.rt, func() error { return k.runNDDispatched(global, local, dargs) }))
}

// doneWith ends the admitted run when fu completes, whether its function ran or the queue
// refused it (Then calls back exactly once), and returns fu.
func (k *Kernel) doneWith(fu *Future[struct{}]) *Future[struct{}] {
	fu.Then(func(struct{}, error) { k.runs.Done() })
	return fu
}

// enqueueNow runs f on a new goroutine and returns its Future (in flight until f returns).
func enqueueNow(rt *Runtime, f func() error) *Future[struct{}] {
	fu := &Future[struct{}]{rt: rt, done: make(chan struct{})}
	if err := rt.enter(); err != nil {
		fu.complete(struct{}{}, err)
		return fu
	}
	go func() {
		defer rt.exit()
		err := callErr(rt.pool, f)
		fu.complete(struct{}{}, err)
	}()
	return fu
}

// checkArgs validates the host arguments as Run does and returns them in device form
// (ArgBuffer entries are filled by the caller).
func (k *Kernel) checkArgs(args []Arg) ([]device.Arg, error) {
	dargs := make([]device.Arg, len(args))
	for i, a := range args {
		d := a.a
		switch d.Kind {
		case device.ArgBuffer:
		case device.ArgIn, device.ArgOut, device.ArgInOut:
			if d.Bytes < 0 || (d.Bytes > 0 && d.Ptr == nil) {
				return nil, invalidf("Kernel %q: argument %d: buffer of %d bytes at a nil pointer", k.name, i, d.Bytes)
			}
		case device.ArgScalar:
			if d.Ptr == nil || d.Bytes <= 0 || d.Bytes > 64 {
				return nil, invalidf("Kernel %q: argument %d: scalar of %d bytes (pointer nil: %v); want 1..64 bytes", k.name, i, d.Bytes, d.Ptr == nil)
			}
		default:
			return nil, invalidf("Kernel %q: argument %d: kind %d is not ArgIn, ArgOut, ArgInOut, ArgScalar or ArgBuffer", k.name, i, int(d.Kind))
		}
		dargs[i] = d
	}
	return dargs, nil
}

// runNDDispatched places an N-D launch with host arguments through the dispatcher (as Run).
func (k *Kernel) runNDDispatched(global, local [3]int64, dargs []device.Arg) error {
	var inB, outB, total uint64
	for _, d := range dargs {
		if d.Kind == device.ArgIn || d.Kind == device.ArgOut || d.Kind == device.ArgInOut {
			total += uint64(d.Bytes)
			if d.Kind != device.ArgOut {
				inB += uint64(d.Bytes)
			}
			if d.Kind != device.ArgIn {
				outB += uint64(d.Bytes)
			}
		}
	}
	ds, err := k.rt.devices()
	if err != nil {
		return err
	}
	if pin := int(ds.pinned.Load()); pin >= 0 && !containsInt(k.devices, pin) {
		return fmt.Errorf("%w: kernel %q has no build for the pinned device %d (it runs on %v)", ErrUnsupported, k.name, pin, k.devices)
	}
	elems := uint64(1)
	for _, g := range global {
		if g > 0 {
			elems *= uint64(g)
		}
	}
	return k.rt.runKernel(context.Background(), &kcall{name: "user:" + k.name, bytes: total, elems: elems, transfer: inB + outB,
		devices: k.devices,
		dev: func(d device.Device) (device.Timing, error) {
			k.mu.Lock()
			dk, closed := k.byDev[d], k.closed
			k.mu.Unlock()
			if closed || dk == nil {
				return device.Timing{}, device.ErrClosed
			}
			return dk.RunND(global, local, dargs...)
		}})
}
