package device

import (
	"fmt"
	"unsafe"
)

// Kernel is a compiled user kernel on one device. Run may be called from any
// goroutine (runs serialise on the device); Close once, after the last Run.
type Kernel struct {
	d    *gdev
	k    *kfunc
	Name string
}

// CompileKernel compiles src for this device's language (OpenCL C or CUDA
// C), through the program cache. No source for the language:
// ErrUnsupported. A compile error matches ErrBuild and carries the log.
// Cost: a cache hit loads a binary (milliseconds); a miss compiles
// (PoCL: seconds).
func (d *gdev) CompileKernel(src KernelSource) (*Kernel, error) {
	if src.Name == "" {
		return nil, fmt.Errorf("%w: kernel name is empty", ErrInvalidArgument)
	}
	code := src.OpenCL
	if d.info.Kind == KindCUDA {
		code = src.CUDA
	}
	if code == "" {
		return nil, fmt.Errorf("%w: kernel %q has no %s source", ErrUnsupported, src.Name, d.info.Kind)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	k, err := d.eng.compile(src)
	if err != nil {
		return nil, err
	}
	return &Kernel{d: d, k: k, Name: src.Name}, nil
}

// Device returns the device the kernel was compiled for.
func (k *Kernel) Device() Device { return k.d }

// Run launches the kernel over a 1-D range of n (see KernelSource for the
// launch rule): In and InOut buffers are copied to the device, Out and
// InOut back; scalars are passed by value, in argument order. Blocks until
// done.
func (k *Kernel) Run(n int64, args ...Arg) (Timing, error) {
	if n <= 0 || n > 1<<40 {
		return Timing{}, fmt.Errorf("%w: kernel %s: n=%d", ErrInvalidArgument, k.Name, n)
	}
	if k.k == nil {
		return Timing{}, ErrClosed
	}
	for i, a := range args {
		if a.Kind < ArgIn || a.Kind > ArgScalar || a.Bytes < 0 || (a.Bytes > 0 && a.Ptr == nil) || (a.Kind == ArgScalar && a.Bytes == 0) {
			return Timing{}, fmt.Errorf("%w: kernel %s: argument %d", ErrInvalidArgument, k.Name, i)
		}
	}
	d := k.d
	return d.batch(func(get func(int64) (*Buffer, error)) error {
		kargs := make([]karg, len(args))
		type out struct {
			b   *Buffer
			dst unsafe.Pointer
			n   int64
		}
		var outs []out
		for i, a := range args {
			if a.Kind == ArgScalar {
				kargs[i] = karg{scalar: unsafe.Slice((*byte)(a.Ptr), a.Bytes)}
				continue
			}
			b, err := get(a.Bytes)
			if err != nil {
				return err
			}
			kargs[i] = karg{buf: b}
			if (a.Kind == ArgIn || a.Kind == ArgInOut) && a.Bytes > 0 {
				if err := d.eng.write(b, a.Ptr, a.Bytes); err != nil {
					return err
				}
			}
			if (a.Kind == ArgOut || a.Kind == ArgInOut) && a.Bytes > 0 {
				outs = append(outs, out{b, a.Ptr, a.Bytes})
			}
		}
		var global, local [2]int
		if d.info.Kind == KindCUDA {
			global, local = [2]int{int(ceilDiv(int(n), 256) * 256), 1}, [2]int{256, 1}
		} else {
			global = [2]int{int(n), 1}
		}
		if err := d.eng.launch(k.k, global, local, kargs); err != nil {
			return err
		}
		for _, o := range outs {
			if err := d.eng.read(o.dst, o.b, o.n); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close releases the compiled kernel.
func (k *Kernel) Close() {
	k.d.mu.Lock()
	defer k.d.mu.Unlock()
	if k.k != nil && !k.d.closed {
		k.d.eng.releaseKernel(k.k)
	}
	k.k = nil
}
