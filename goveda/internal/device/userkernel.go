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
	if n <= 0 || n > maxWorkItems {
		return Timing{}, fmt.Errorf("%w: kernel %s: n=%d", ErrInvalidArgument, k.Name, n)
	}
	return k.RunND([3]int64{n, 1, 1}, [3]int64{}, args...)
}

// maxWorkItems bounds the total work-items of one launch.
const maxWorkItems = 1 << 40

// CheckLaunch validates an N-D launch shape for this device: every global extent >= 1 and
// their product <= 2^40; local all zero (the driver chooses: OpenCL; CUDA takes 256 threads in
// x) or every extent >= 1, within the device's per-dimension limits and its work-group size;
// OpenCL needs each global extent to be a multiple of the local one (CUDA rounds the grid up,
// and the kernel bound-checks); CUDA's grid limits. Errors wrap ErrInvalidArgument.
func (k *Kernel) CheckLaunch(global, local [3]int64) error {
	in := k.d.info
	total := int64(1)
	for _, g := range global {
		if g < 1 || g > maxWorkItems || total > maxWorkItems/g {
			return fmt.Errorf("%w: kernel %s: global size %v: each extent must be >= 1 and the product <= 2^40", ErrInvalidArgument, k.Name, global)
		}
		total *= g
	}
	if local == [3]int64{} {
		return nil
	}
	group := int64(1)
	for i, l := range local {
		if l < 1 {
			return fmt.Errorf("%w: kernel %s: local size %v: each extent must be >= 1 (or all 0 for the driver's choice)", ErrInvalidArgument, k.Name, local)
		}
		if m := in.MaxWorkItemSizes[i]; m > 0 && l > int64(m) {
			return fmt.Errorf("%w: kernel %s: local size %v: extent %d is %d, %s allows at most %d", ErrInvalidArgument, k.Name, local, i, l, in.Name, m)
		}
		group *= l
		if in.Kind == KindOpenCL && global[i]%l != 0 {
			return fmt.Errorf("%w: kernel %s: local size %v does not divide global size %v (OpenCL 1.2 requires it)", ErrInvalidArgument, k.Name, local, global)
		}
		if m := in.MaxGridSizes[i]; m > 0 && ceilDiv64(global[i], l) > int64(m) {
			return fmt.Errorf("%w: kernel %s: global size %v needs %d groups in dimension %d, %s allows %d", ErrInvalidArgument, k.Name, global, ceilDiv64(global[i], l), i, in.Name, m)
		}
	}
	if in.MaxWorkGroupSize > 0 && group > int64(in.MaxWorkGroupSize) {
		return fmt.Errorf("%w: kernel %s: local size %v has %d work-items, %s allows %d", ErrInvalidArgument, k.Name, local, group, in.Name, in.MaxWorkGroupSize)
	}
	return nil
}

func ceilDiv64(a, b int64) int64 { return (a + b - 1) / b }

// RunND launches the kernel over a global range of up to 3 dimensions (unused ones 1) in
// work-groups of local (all 0: the driver's choice), after CheckLaunch. Arguments as Run;
// ArgBuffer arguments must be Residents of this device and are used in place (no copy).
// Nothing runs when a check fails. Blocks until done.
func (k *Kernel) RunND(global, local [3]int64, args ...Arg) (Timing, error) {
	if k.k == nil {
		return Timing{}, ErrClosed
	}
	if err := k.CheckLaunch(global, local); err != nil {
		return Timing{}, err
	}
	var uses []resUse
	for i, a := range args {
		if a.Kind == ArgBuffer {
			if a.Res == nil {
				return Timing{}, fmt.Errorf("%w: kernel %s: argument %d: nil buffer", ErrInvalidArgument, k.Name, i)
			}
			uses = append(uses, resUse{a.Res, 0, 0})
			continue
		}
		if a.Kind < ArgIn || a.Kind > ArgScalar || a.Bytes < 0 || (a.Bytes > 0 && a.Ptr == nil) || (a.Kind == ArgScalar && a.Bytes == 0) {
			return Timing{}, fmt.Errorf("%w: kernel %s: argument %d", ErrInvalidArgument, k.Name, i)
		}
	}
	d := k.d
	var held []*Buffer
	defer func() {
		if len(held) > 0 {
			d.mu.Lock()
			for _, b := range held {
				d.pool.put(b)
			}
			d.mu.Unlock()
		}
	}()
	return d.batchRes("kernel "+k.Name, uses, func() error {
		if k.k == nil {
			return ErrClosed
		}
		kargs := make([]karg, len(args))
		type out struct {
			b   *Buffer
			dst unsafe.Pointer
			n   int64
		}
		var outs []out
		for i, a := range args {
			switch a.Kind {
			case ArgScalar:
				kargs[i] = karg{scalar: unsafe.Slice((*byte)(a.Ptr), a.Bytes)}
				continue
			case ArgBuffer:
				kargs[i] = karg{buf: a.Res.b}
				continue
			}
			b, err := d.pool.get(a.Bytes)
			if err != nil {
				return err
			}
			held = append(held, b)
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
		g := [3]int{int(global[0]), int(global[1]), int(global[2])}
		l := [3]int{int(local[0]), int(local[1]), int(local[2])}
		if d.info.Kind == KindCUDA && local == [3]int64{} {
			l = [3]int{256, 1, 1}
		}
		if err := d.eng.launch(k.k, g, l, kargs); err != nil {
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
