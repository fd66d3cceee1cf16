package goveda

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/device"
)

// Device-resident buffers.
//
// A Buffer is memory on one device of a runtime: device 0 keeps it in host memory, devices 1..
// in device memory taken from the device's pool. Data written to a Buffer stays there between
// kernels, so a chain of kernels on one device copies nothing between host and device. A kernel
// call whose buffer arguments are all on one device runs on that device, in that device's queue,
// with no dispatch decision and no copy of those arguments; buffers of two devices in one call
// are an error. Device out-of-memory is reported as ErrOutOfMemory and never falls back to the
// CPU: the data is on the device.
//
// Order: every operation on the buffers of one device (Write, Read, the built-in kernels on
// buffers, Kernel runs with buffers, and their Async forms) runs in the order it was called, on
// the device's queue. An Async form returns a Future at once; the synchronous form is the Async
// form and a wait.
//
// Who may call: every method from any goroutine. Destroy makes later operations fail with
// ErrInvalidArgument; operations queued before it run first.

// Buffer is memory resident on one device of a runtime. Create it with Runtime.Buffer (or
// ToDevice), free it with Destroy.
type Buffer struct {
	rt    *Runtime
	dev   int
	bytes int64
	res   *device.Resident // devices 1..
	// host is device 0's memory, 8-byte aligned; nil once destroyed. Guarded by mu (held while
	// an operation of the CPU queue uses it).
	mu        sync.Mutex
	host      []uint64
	destroyed bool // guarded by mu
}

// Buffer allocates bytes on device (0 is the CPU, whose buffers live in host memory). Errors
// wrapping ErrInvalidArgument: a device index that does not exist, bytes <= 0 or larger than the
// device's memory. ErrOutOfMemory when the device has no room (after trimming its pool);
// ErrClosed. Any goroutine. Cost: a pool hit is about a microsecond; a miss a driver allocation.
func (rt *Runtime) Buffer(device int, bytes int64) (*Buffer, error) {
	if err := rt.checkOpen(); err != nil {
		return nil, err
	}
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	if device < 0 || device >= len(ds.infos) {
		return nil, invalidf("Buffer: device %d does not exist (devices 0..%d)", device, len(ds.infos)-1)
	}
	if mem := ds.infos[device].MemoryBytes; bytes <= 0 || (mem > 0 && uint64(bytes) > mem) {
		return nil, invalidf("Buffer: %d bytes on device %d; want 1..%d", bytes, device, mem)
	}
	b := &Buffer{rt: rt, dev: device, bytes: bytes}
	if device == 0 {
		if uint64(bytes) > math.MaxInt/2 {
			return nil, invalidf("Buffer: %d bytes", bytes)
		}
		b.host = make([]uint64, (bytes+7)/8)
		return b, nil
	}
	res, err := ds.gpus[device-1].NewResident(bytes)
	if err != nil {
		return nil, mapDeviceError(err)
	}
	b.res = res
	return b, nil
}

// Device returns the index of the device the buffer is on.
func (b *Buffer) Device() int { return b.dev }

// Bytes returns the buffer's size in bytes.
func (b *Buffer) Bytes() int64 { return b.bytes }

// String returns "buffer(<bytes> bytes on device <i>)".
func (b *Buffer) String() string { return fmt.Sprintf("buffer(%d bytes on device %d)", b.bytes, b.dev) }

// checkRange validates [off, off+n) of b.
func (b *Buffer) checkRange(op string, off, n int64) error {
	if off < 0 || n < 0 || off > b.bytes || n > b.bytes-off {
		return invalidf("%s: range [%d, %d+%d) outside the buffer's %d bytes", op, off, off, n, b.bytes)
	}
	return nil
}

// hostBytes returns device 0's memory as bytes, or an error when destroyed; b.mu held.
func (b *Buffer) hostBytes(op string) ([]byte, error) {
	if b.destroyed {
		return nil, invalidf("%s: buffer was destroyed", op)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&b.host[0])), b.bytes), nil
}

// WritePtr copies n bytes from src to the buffer at byte offset off, in the device's queue
// order, and returns when they are on the device. src must stay valid and unchanged until then.
// Errors wrapping ErrInvalidArgument: a range outside the buffer, a nil src with n > 0, a
// destroyed buffer. Any goroutine.
func (b *Buffer) WritePtr(ctx context.Context, off int64, src unsafe.Pointer, n int64) error {
	_, err := b.writeAsync(off, src, n, nil).Wait(ctx)
	return err
}

// ReadPtr copies n bytes at byte offset off of the buffer to dst, after every operation queued
// on the device before it, and returns when dst holds them. Errors as WritePtr.
func (b *Buffer) ReadPtr(ctx context.Context, off int64, dst unsafe.Pointer, n int64) error {
	_, err := b.readAsync(off, dst, n, nil).Wait(ctx)
	return err
}

// WriteAsync is WritePtr returning at once; keep's memory (src) must stay valid and unchanged
// until the Future is done. keep is any Go value that owns src (a slice), held until then.
func (b *Buffer) WriteAsync(off int64, src unsafe.Pointer, n int64, keep any) *Future[struct{}] {
	return b.writeAsync(off, src, n, keep)
}

// ReadAsync is ReadPtr returning at once; dst is written before the Future is done.
func (b *Buffer) ReadAsync(off int64, dst unsafe.Pointer, n int64, keep any) *Future[struct{}] {
	return b.readAsync(off, dst, n, keep)
}

func (b *Buffer) writeAsync(off int64, src unsafe.Pointer, n int64, keep any) *Future[struct{}] {
	return enqueue(b.rt, b.dev, func() (struct{}, error) {
		_ = keep
		if err := b.checkRange("Buffer write", off, n); err != nil {
			return struct{}{}, err
		}
		if n > 0 && src == nil {
			return struct{}{}, invalidf("Buffer write: source is nil")
		}
		if b.res != nil {
			_, err := b.res.Write(off, src, n)
			return struct{}{}, mapDeviceError(err)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		hb, err := b.hostBytes("Buffer write")
		if err == nil && n > 0 {
			copy(hb[off:off+n], unsafe.Slice((*byte)(src), n))
		}
		return struct{}{}, err
	})
}

func (b *Buffer) readAsync(off int64, dst unsafe.Pointer, n int64, keep any) *Future[struct{}] {
	return enqueue(b.rt, b.dev, func() (struct{}, error) {
		_ = keep
		if err := b.checkRange("Buffer read", off, n); err != nil {
			return struct{}{}, err
		}
		if n > 0 && dst == nil {
			return struct{}{}, invalidf("Buffer read: destination is nil")
		}
		if b.res != nil {
			_, err := b.res.Read(off, dst, n)
			return struct{}{}, mapDeviceError(err)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		hb, err := b.hostBytes("Buffer read")
		if err == nil && n > 0 {
			copy(unsafe.Slice((*byte)(dst), n), hb[off:off+n])
		}
		return struct{}{}, err
	})
}

// Destroy returns the buffer's memory to its device's pool after the operations queued on the
// device before it. A second Destroy wraps ErrInvalidArgument. Any goroutine; blocks until done.
func (b *Buffer) Destroy() error {
	_, err := enqueueWait(context.Background(), b.rt, b.dev, func() (struct{}, error) {
		if b.res != nil {
			return struct{}{}, mapDeviceError(b.res.Free())
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.destroyed {
			return struct{}{}, invalidf("Buffer: already destroyed")
		}
		b.destroyed, b.host = true, nil
		return struct{}{}, nil
	})
	if err != nil && b.rt.pool.Closed() {
		// The runtime is closed: its queues take no work, so free directly.
		if b.res != nil {
			return mapDeviceError(b.res.Free())
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.destroyed {
			return invalidf("Buffer: already destroyed")
		}
		b.destroyed, b.host = true, nil
		return nil
	}
	return err
}

// Number is an element type of the typed buffer helpers.
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// Write copies src into b starting at element off (of T's size). Errors as WritePtr. Any
// goroutine; blocks until done.
func Write[T Number](ctx context.Context, b *Buffer, off int, src []T) error {
	var z T
	es := int64(unsafe.Sizeof(z))
	if off < 0 {
		return invalidf("Write: element offset %d < 0", off)
	}
	if len(src) == 0 {
		return b.WritePtr(ctx, int64(off)*es, nil, 0)
	}
	return b.WritePtr(ctx, int64(off)*es, unsafe.Pointer(&src[0]), int64(len(src))*es)
}

// Read copies len(dst) elements of b starting at element off into dst. Errors as ReadPtr.
func Read[T Number](ctx context.Context, b *Buffer, off int, dst []T) error {
	var z T
	es := int64(unsafe.Sizeof(z))
	if off < 0 {
		return invalidf("Read: element offset %d < 0", off)
	}
	if len(dst) == 0 {
		return b.ReadPtr(ctx, int64(off)*es, nil, 0)
	}
	return b.ReadPtr(ctx, int64(off)*es, unsafe.Pointer(&dst[0]), int64(len(dst))*es)
}

// WriteAsync copies src into b at element off and returns at once; src must stay unchanged
// until the Future is done.
func WriteAsync[T Number](b *Buffer, off int, src []T) *Future[struct{}] {
	var z T
	es := int64(unsafe.Sizeof(z))
	if off < 0 {
		return failedFuture[struct{}](b.rt, invalidf("WriteAsync: element offset %d < 0", off))
	}
	var p unsafe.Pointer
	if len(src) > 0 {
		p = unsafe.Pointer(&src[0])
	}
	return b.WriteAsync(int64(off)*es, p, int64(len(src))*es, src)
}

// ReadAsync copies len(dst) elements of b at element off into dst and returns at once; dst is
// filled when the Future is done.
func ReadAsync[T Number](b *Buffer, off int, dst []T) *Future[struct{}] {
	var z T
	es := int64(unsafe.Sizeof(z))
	if off < 0 {
		return failedFuture[struct{}](b.rt, invalidf("ReadAsync: element offset %d < 0", off))
	}
	var p unsafe.Pointer
	if len(dst) > 0 {
		p = unsafe.Pointer(&dst[0])
	}
	return b.ReadAsync(int64(off)*es, p, int64(len(dst))*es, dst)
}

// ToDevice allocates a buffer of len(x) elements on device and copies x into it.
func ToDevice[T Number](ctx context.Context, rt *Runtime, device int, x []T) (*Buffer, error) {
	var z T
	b, err := rt.Buffer(device, int64(len(x))*int64(unsafe.Sizeof(z)))
	if err != nil {
		return nil, err
	}
	if err := Write(ctx, b, 0, x); err != nil {
		_ = b.Destroy()
		return nil, err
	}
	return b, nil
}

// ToHost returns the buffer's contents as a new slice of T (Bytes()/sizeof(T) elements).
func ToHost[T Number](ctx context.Context, b *Buffer) ([]T, error) {
	var z T
	out := make([]T, b.bytes/int64(unsafe.Sizeof(z)))
	return out, Read(ctx, b, 0, out)
}

// failedFuture returns a Future already completed with err.
func failedFuture[T any](rt *Runtime, err error) *Future[T] {
	fu := &Future[T]{rt: rt, done: make(chan struct{})}
	var zero T
	fu.complete(zero, err)
	return fu
}

// sameDevice returns the device of bufs, or an error when they are on different devices, or
// belong to another runtime, or one is nil.
func sameDevice(rt *Runtime, op string, bufs ...*Buffer) (int, error) {
	dev := -1
	for i, b := range bufs {
		if b == nil {
			return -1, invalidf("%s: buffer %d is nil", op, i)
		}
		if b.rt != rt {
			return -1, invalidf("%s: buffer %d belongs to another runtime", op, i)
		}
		if dev >= 0 && b.dev != dev {
			return -1, invalidf("%s: buffers on devices %d and %d; a call takes buffers of one device", op, dev, b.dev)
		}
		dev = b.dev
	}
	return dev, nil
}

// f32s returns n floats of a device-0 buffer's memory; b.mu held.
func (b *Buffer) f32s(op string, n int) ([]float32, error) {
	hb, err := b.hostBytes(op)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&hb[0])), n), nil
}

// elems4 checks that n float32 fit every buffer.
func elems4(op string, n int, bufs ...*Buffer) error {
	if n <= 0 {
		return invalidf("%s: n = %d, want > 0", op, n)
	}
	for i, b := range bufs {
		if int64(n)*4 > b.bytes {
			return invalidf("%s: buffer %d holds %d floats, n is %d", op, i, b.bytes/4, n)
		}
	}
	return nil
}

// SaxpyBufferAsync queues y = a*x + y over the first n floats of two buffers of one device.
// It runs on that device with no copy and no dispatch. Errors wrapping ErrInvalidArgument:
// buffers of two devices, nil, destroyed, or shorter than n floats.
func (rt *Runtime) SaxpyBufferAsync(a float32, x, y *Buffer, n int) *Future[struct{}] {
	dev, err := sameDevice(rt, "SaxpyBuffer", x, y)
	if err == nil {
		err = elems4("SaxpyBuffer", n, x, y)
	}
	if err != nil {
		return failedFuture[struct{}](rt, err)
	}
	return enqueue(rt, dev, func() (struct{}, error) {
		if dev > 0 {
			_, err := rt.dev.gpus[dev-1].SaxpyResident(a, x.res, y.res, n)
			return struct{}{}, mapDeviceError(err)
		}
		unlock := lockBuffers(x, y)
		defer unlock()
		xs, err := x.f32s("SaxpyBuffer", n)
		if err != nil {
			return struct{}{}, err
		}
		ys, err := y.f32s("SaxpyBuffer", n)
		if err != nil {
			return struct{}{}, err
		}
		if x != y && partialOverlap(xs, ys) {
			return struct{}{}, invalidf("SaxpyBuffer: x and y overlap")
		}
		return struct{}{}, rt.saxpyCPU(context.Background(), a, xs, ys)
	})
}

// SaxpyBuffer is SaxpyBufferAsync and a wait.
func (rt *Runtime) SaxpyBuffer(ctx context.Context, a float32, x, y *Buffer, n int) error {
	_, err := rt.SaxpyBufferAsync(a, x, y, n).Wait(ctx)
	return err
}

// lockBuffers locks the distinct device-0 buffers among bufs (in a fixed order) and returns
// the unlock.
func lockBuffers(bufs ...*Buffer) func() {
	var locked []*Buffer
	for _, b := range bufs {
		dup := false
		for _, l := range locked {
			dup = dup || l == b
		}
		if !dup {
			locked = append(locked, b)
		}
	}
	// Address order: two calls locking the same pair cannot deadlock.
	for i := 1; i < len(locked); i++ {
		for j := i; j > 0 && uintptr(unsafe.Pointer(locked[j])) < uintptr(unsafe.Pointer(locked[j-1])); j-- {
			locked[j], locked[j-1] = locked[j-1], locked[j]
		}
	}
	for _, b := range locked {
		b.mu.Lock()
	}
	return func() {
		for _, b := range locked {
			b.mu.Unlock()
		}
	}
}

// DotF32BufferAsync queues the dot product of the first n floats of x and y (accumulated in
// float64; on the CPU the compensated deterministic DotF32, on a device the device's
// reproducible reduction). With out != nil the result stays on the device: a float64 in out's
// first 8 bytes (no copy back), and the Future's value is 0. Errors as SaxpyBufferAsync; out
// on a device without fp64 wraps ErrUnsupported.
func (rt *Runtime) DotF32BufferAsync(x, y *Buffer, n int, out *Buffer) *Future[float64] {
	bufs := []*Buffer{x, y}
	if out != nil {
		bufs = append(bufs, out)
	}
	dev, err := sameDevice(rt, "DotF32Buffer", bufs...)
	if err == nil {
		err = elems4("DotF32Buffer", n, x, y)
	}
	if err == nil && out != nil && out.bytes < 8 {
		err = invalidf("DotF32Buffer: out holds %d bytes, needs 8", out.bytes)
	}
	if err != nil {
		return failedFuture[float64](rt, err)
	}
	return enqueue(rt, dev, func() (float64, error) {
		if dev > 0 {
			var ro *device.Resident
			if out != nil {
				ro = out.res
			}
			v, _, err := rt.dev.gpus[dev-1].DotF32Resident(x.res, y.res, n, ro)
			return v, mapDeviceError(err)
		}
		unlock := lockBuffers(bufs...)
		defer unlock()
		xs, err := x.f32s("DotF32Buffer", n)
		if err != nil {
			return 0, err
		}
		ys, err := y.f32s("DotF32Buffer", n)
		if err != nil {
			return 0, err
		}
		v, err := rt.dotF32CPU(context.Background(), xs, ys)
		if err != nil || out == nil {
			return v, err
		}
		hb, err := out.hostBytes("DotF32Buffer")
		if err != nil {
			return 0, err
		}
		*(*float64)(unsafe.Pointer(&hb[0])) = v
		return 0, nil
	})
}

// DotF32Buffer is DotF32BufferAsync and a wait.
func (rt *Runtime) DotF32Buffer(ctx context.Context, x, y *Buffer, n int, out *Buffer) (float64, error) {
	return rt.DotF32BufferAsync(x, y, n, out).Wait(ctx)
}

// SumF32Buffer returns the sum of the first n floats of x (as DotF32Buffer; out keeps the
// result on the device).
func (rt *Runtime) SumF32Buffer(ctx context.Context, x *Buffer, n int, out *Buffer) (float64, error) {
	bufs := []*Buffer{x}
	if out != nil {
		bufs = append(bufs, out)
	}
	dev, err := sameDevice(rt, "SumF32Buffer", bufs...)
	if err == nil {
		err = elems4("SumF32Buffer", n, x)
	}
	if err == nil && out != nil && out.bytes < 8 {
		err = invalidf("SumF32Buffer: out holds %d bytes, needs 8", out.bytes)
	}
	if err != nil {
		return 0, err
	}
	return enqueueWait(ctx, rt, dev, func() (float64, error) {
		if dev > 0 {
			var ro *device.Resident
			if out != nil {
				ro = out.res
			}
			v, _, err := rt.dev.gpus[dev-1].SumF32Resident(x.res, n, ro)
			return v, mapDeviceError(err)
		}
		unlock := lockBuffers(bufs...)
		defer unlock()
		xs, err := x.f32s("SumF32Buffer", n)
		if err != nil {
			return 0, err
		}
		v, err := rt.sumF32CPU(context.Background(), xs)
		if err != nil || out == nil {
			return v, err
		}
		hb, err := out.hostBytes("SumF32Buffer")
		if err != nil {
			return 0, err
		}
		*(*float64)(unsafe.Pointer(&hb[0])) = v
		return 0, nil
	})
}

// DeviceTransfers returns the host<->device copies device index has made so far (every built-in
// kernel, user kernel and buffer read or write); zero for the CPU. A chain of kernels on
// resident buffers adds nothing.
func (rt *Runtime) DeviceTransfers(index int) (device.TransferStats, error) {
	ds, err := rt.devices()
	if err != nil {
		return device.TransferStats{}, err
	}
	if index < 0 || index >= len(ds.infos) {
		return device.TransferStats{}, invalidf("DeviceTransfers: device %d does not exist", index)
	}
	if index == 0 {
		return device.TransferStats{}, nil
	}
	return ds.gpus[index-1].TransferStats(), nil
}

// TransferStats counts a device's host<->device copies and bytes.
type TransferStats = device.TransferStats
