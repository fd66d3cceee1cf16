package goveda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/veda-runtime/veda/goveda/internal/device"
)

// KernelSource is a user kernel in OpenCL C and/or CUDA C. An empty source means "none in that
// language". Name is the kernel function's name.
//
// Launch rule: the kernel runs over a 1-D range of n. OpenCL launches n work-items; CUDA
// launches ceil(n/256) blocks of 256 threads, so a CUDA kernel must be extern "C" and
// bound-check its index against an n passed to it as a scalar argument.
type KernelSource struct {
	OpenCL string
	CUDA   string
	Name   string
}

// ArgKind is the kind of a kernel argument. The values are VEDA_ARG_* in the C ABI.
type ArgKind int

const (
	ArgIn     ArgKind = 0 // host buffer copied to the device before the launch
	ArgOut    ArgKind = 1 // device buffer copied back into the host buffer after the launch
	ArgInOut  ArgKind = 2 // both
	ArgScalar ArgKind = 3 // a value passed by value
)

// Arg is one kernel argument; make it with In, Out, InOut or Scalar (or RawArg).
type Arg struct {
	a   device.Arg
	buf *Buffer // ArgBuffer only (BufferArg)
}

// In passes s to the kernel as an input buffer (__global const T* / const T*).
func In[T any](s []T) Arg { return Arg{a: device.SliceArg(device.ArgIn, s)} }

// Out passes s as an output buffer: its contents after Run are what the kernel wrote.
func Out[T any](s []T) Arg { return Arg{a: device.SliceArg(device.ArgOut, s)} }

// InOut passes s in and copies it back after the launch.
func InOut[T any](s []T) Arg { return Arg{a: device.SliceArg(device.ArgInOut, s)} }

// Scalar passes a copy of v by value; its type must match the kernel parameter (int32, float32,
// int64, float64, ...).
func Scalar[T any](v T) Arg { return Arg{a: device.ScalarArg(v)} }

// RawArg is an argument from a pointer and a size in bytes (for the C ABI and callers holding C
// memory). For ArgScalar, ptr points at the value. The memory must stay valid during Run.
func RawArg(kind ArgKind, ptr unsafe.Pointer, bytes int64) Arg {
	return Arg{a: device.Arg{Kind: device.ArgKind(kind), Ptr: ptr, Bytes: bytes}}
}

// Kernel is a user kernel compiled for every device of its runtime that has a source in its
// language. Run may be called from any goroutine, concurrently.
type Kernel struct {
	rt      *Runtime
	name    string
	devices []int // device indexes it was compiled for, ascending
	mu      sync.Mutex
	byDev   map[device.Device]*device.Kernel // guarded by mu (Close empties it)
	closed  bool                             // guarded by mu; set by Close, then no new Run starts
	// runs counts the Runs in flight: Add only under mu while !closed, so Close's Wait (after
	// it set closed) sees every Run that started.
	runs sync.WaitGroup
}

// Kernel compiles src for every device that has a matching source (OpenCL C for OpenCL devices,
// CUDA C for CUDA devices), using the on-disk program cache. Errors: an empty name or no source
// wraps ErrInvalidArgument; a compile error wraps ErrDevice and carries the full build log; no
// device able to run it wraps ErrUnsupported (with each backend's reason). Any goroutine;
// compiling costs tens of milliseconds to seconds, a cache hit far less.
func (rt *Runtime) Kernel(src KernelSource) (*Kernel, error) {
	if strings.TrimSpace(src.Name) == "" {
		return nil, invalidf("Kernel: the kernel name is empty")
	}
	if src.OpenCL == "" && src.CUDA == "" {
		return nil, invalidf("Kernel %q: no source (give OpenCL C, CUDA C, or both)", src.Name)
	}
	if err := rt.checkOpen(); err != nil {
		return nil, err
	}
	ds, err := rt.devices()
	if err != nil {
		return nil, err
	}
	k := &Kernel{rt: rt, name: src.Name, byDev: map[device.Device]*device.Kernel{}}
	var skipped []string
	for i, g := range ds.gpus {
		if (g.Kind() == device.KindOpenCL && src.OpenCL == "") || (g.Kind() == device.KindCUDA && src.CUDA == "") {
			continue
		}
		dk, err := g.CompileKernel(device.KernelSource{OpenCL: src.OpenCL, CUDA: src.CUDA, Name: src.Name})
		if err != nil {
			if errors.Is(err, device.ErrUnsupported) {
				skipped = append(skipped, fmt.Sprintf("device %d (%s): %v", i+1, g.Info().Name, err))
				continue
			}
			k.Close()
			if errors.Is(err, device.ErrBuild) {
				return nil, fmt.Errorf("%w: kernel %q does not compile for device %d (%s): %w", ErrDevice, src.Name, i+1, g.Info().Name, err)
			}
			return nil, mapDeviceError(err)
		}
		k.byDev[g] = dk
		k.devices = append(k.devices, i+1)
	}
	if len(k.devices) == 0 {
		why := []string{}
		for kind, reason := range ds.disc.Absent {
			why = append(why, kind.String()+": "+reason)
		}
		why = append(why, skipped...)
		if len(ds.gpus) > 0 && len(skipped) == 0 {
			why = append(why, "no device has a source in its language")
		}
		return nil, fmt.Errorf("%w: no device can run kernel %q (%s)", ErrUnsupported, src.Name, strings.Join(why, "; "))
	}
	return k, nil
}

// Name returns the kernel function's name.
func (k *Kernel) Name() string { return k.name }

// Devices returns the indexes of the devices the kernel was compiled for.
func (k *Kernel) Devices() []int { return append([]int(nil), k.devices...) }

// Run launches the kernel over [0, n) on a device chosen by the runtime's strategy (or the pinned
// device), copying In/InOut buffers in before and Out/InOut buffers back after; it blocks until
// done. A device failure falls back to another device that has the kernel (unless pinned).
//
// Errors wrapping ErrInvalidArgument: n < 0, an argument of unknown kind, a buffer with a nil
// pointer and a non-zero size, a scalar of size 0 or more than 64 bytes. ErrUnsupported: the
// runtime is pinned to a device the kernel was not compiled for. ErrDevice with the driver's
// message for launch failures; ErrClosed after Close or after k.Close.
func (k *Kernel) Run(ctx context.Context, n int64, args ...Arg) error {
	if n < 0 {
		return invalidf("Kernel %q: n is %d, must be >= 0", k.name, n)
	}
	if dev, err := k.bufferDevice(args); err != nil || dev >= 0 { // resident buffers: their device (kernelnd.go)
		if err != nil || n == 0 {
			return err
		}
		return k.RunND(ctx, [3]int64{n, 1, 1}, [3]int64{}, args...)
	}
	var inB, outB, total uint64
	dargs := make([]device.Arg, len(args))
	for i, a := range args {
		d := a.a
		switch d.Kind {
		case device.ArgIn, device.ArgOut, device.ArgInOut:
			if d.Bytes < 0 || (d.Bytes > 0 && d.Ptr == nil) {
				return invalidf("Kernel %q: argument %d: buffer of %d bytes at a nil pointer", k.name, i, d.Bytes)
			}
			total += uint64(d.Bytes)
			if d.Kind != device.ArgOut {
				inB += uint64(d.Bytes)
			}
			if d.Kind != device.ArgIn {
				outB += uint64(d.Bytes)
			}
		case device.ArgScalar:
			if d.Ptr == nil || d.Bytes <= 0 || d.Bytes > 64 {
				return invalidf("Kernel %q: argument %d: scalar of %d bytes (pointer nil: %v); want 1..64 bytes", k.name, i, d.Bytes, d.Ptr == nil)
			}
		default:
			return invalidf("Kernel %q: argument %d: kind %d is not ArgIn, ArgOut, ArgInOut or ArgScalar", k.name, i, int(d.Kind))
		}
		dargs[i] = d
	}
	if n == 0 {
		return nil
	}
	if err := k.admit(); err != nil {
		return err
	}
	defer k.runs.Done()
	ds, err := k.rt.devices()
	if err != nil {
		return err
	}
	if pin := int(ds.pinned.Load()); pin >= 0 && !containsInt(k.devices, pin) {
		return fmt.Errorf("%w: kernel %q has no build for the pinned device %d (it runs on %v)", ErrUnsupported, k.name, pin, k.devices)
	}
	return k.rt.runKernel(ctx, &kcall{name: "user:" + k.name, bytes: total, elems: uint64(n), transfer: inB + outB,
		devices: k.devices,
		dev: func(d device.Device) (device.Timing, error) {
			k.mu.Lock()
			dk, closed := k.byDev[d], k.closed
			k.mu.Unlock()
			if closed || dk == nil {
				return device.Timing{}, device.ErrClosed
			}
			return dk.Run(n, dargs...)
		}})
}

// admit counts one run (Run, RunND, RunAsync, RunNDAsync) in flight, or fails with ErrClosed
// after Close. A nil error must be matched by one k.runs.Done when the run finished. Any
// goroutine.
func (k *Kernel) admit() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return fmt.Errorf("%w: kernel %q was closed", ErrClosed, k.name)
	}
	k.runs.Add(1)
	return nil
}

// Close stops new Runs (they return an error wrapping ErrClosed), waits for the Runs in flight,
// then releases the compiled programs. Idempotent: every call returns after the programs were
// released. Any goroutine, concurrently with Run (not from inside one of k's Runs).
func (k *Kernel) Close() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.runs.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, dk := range k.byDev {
		dk.Close()
	}
	k.byDev = nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
