package device

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Resident is device memory that outlives a call: the data stays on the device between
// kernels, so a chain of kernels on one device moves no bytes between host and device.
//
// A Resident comes from its device's pool (NewResident) and goes back to it on Free. Every
// operation on it takes its device's lock, so Free waits for a kernel using it and a Resident
// freed before an operation makes that operation fail with ErrInvalidArgument, never touch
// released memory. Any goroutine may use a Resident; operations on one device run one at a time,
// in the order they take the lock.
type Resident struct {
	d     *gdev
	b     *Buffer // nil once freed; guarded by d.mu
	bytes int64
}

// Bytes returns the size in bytes asked for at creation.
func (r *Resident) Bytes() int64 { return r.bytes }

// Device returns the device the memory is on.
func (r *Resident) Device() Device { return r.d }

// TransferStats counts a device's host<->device copies (every batch: built-in kernels, user
// kernels, Resident reads and writes). A chain of kernels on Residents adds nothing.
type TransferStats struct {
	H2DCopies int64 `json:"h2d_copies"`
	H2DBytes  int64 `json:"h2d_bytes"`
	D2HCopies int64 `json:"d2h_copies"`
	D2HBytes  int64 `json:"d2h_bytes"`
}

type transferCounters struct {
	// Relaxed atomics: statistics only, read as a snapshot; no ordering with the data.
	h2dCopies, h2dBytes, d2hCopies, d2hBytes atomic.Int64
}

func (c *transferCounters) add(t Timing) {
	c.h2dCopies.Add(int64(t.CopiesIn))
	c.h2dBytes.Add(t.BytesIn)
	c.d2hCopies.Add(int64(t.CopiesOut))
	c.d2hBytes.Add(t.BytesOut)
}

// TransferStats returns the device's copy counters.
func (d *gdev) TransferStats() TransferStats {
	return TransferStats{H2DCopies: d.xfer.h2dCopies.Load(), H2DBytes: d.xfer.h2dBytes.Load(),
		D2HCopies: d.xfer.d2hCopies.Load(), D2HBytes: d.xfer.d2hBytes.Load()}
}

// NewResident takes bytes of device memory from the pool. Errors: bytes <= 0 or above the
// device's memory wraps ErrInvalidArgument; the driver out of memory (after trimming the pool
// and one retry) matches ErrOutOfMemory; ErrClosed.
func (d *gdev) NewResident(bytes int64) (*Resident, error) {
	if bytes <= 0 || (d.info.MemoryBytes > 0 && uint64(bytes) > d.info.MemoryBytes) {
		return nil, fmt.Errorf("%w: buffer of %d bytes on %s (1..%d)", ErrInvalidArgument, bytes, d.info.Name, d.info.MemoryBytes)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	b, err := d.pool.get(bytes)
	if err != nil {
		return nil, err
	}
	return &Resident{d: d, b: b, bytes: bytes}, nil
}

// Free returns the memory to the pool. A second Free wraps ErrInvalidArgument.
func (r *Resident) Free() error {
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.b == nil {
		return fmt.Errorf("%w: buffer already destroyed", ErrInvalidArgument)
	}
	if !d.closed {
		d.pool.put(r.b)
	}
	r.b = nil
	return nil
}

// checkRange validates [off, off+n) against r; call with d.mu held.
func (r *Resident) checkRange(op string, off, n int64) error {
	if r.b == nil {
		return fmt.Errorf("%w: %s: buffer was destroyed", ErrInvalidArgument, op)
	}
	if off < 0 || n < 0 || off > r.bytes || n > r.bytes-off {
		return fmt.Errorf("%w: %s: range [%d, %d+%d) outside the buffer's %d bytes", ErrInvalidArgument, op, off, off, n, r.bytes)
	}
	return nil
}

// view returns the pool buffer shifted by off bytes (for copies; OpenCL passes the offset to
// the copy, CUDA adds it to the pointer).
func (b *Buffer) view(off int64) *Buffer {
	v := *b
	v.off += off
	return &v
}

// Write copies n bytes from src (host memory, any alignment) to the buffer at byte offset off
// and returns when they are on the device. Errors wrap ErrInvalidArgument for a range outside
// the buffer or a destroyed buffer.
func (r *Resident) Write(off int64, src unsafe.Pointer, n int64) (Timing, error) {
	return r.d.batchRes("buffer write", []resUse{{r, off, n}}, func() error {
		if n == 0 {
			return nil
		}
		if src == nil {
			return fmt.Errorf("%w: buffer write: source is nil", ErrInvalidArgument)
		}
		return r.d.eng.write(r.b.view(off), src, n)
	})
}

// Read copies n bytes at byte offset off of the buffer to dst and returns when dst holds them.
// Errors as Write.
func (r *Resident) Read(off int64, dst unsafe.Pointer, n int64) (Timing, error) {
	return r.d.batchRes("buffer read", []resUse{{r, off, n}}, func() error {
		if n == 0 {
			return nil
		}
		if dst == nil {
			return fmt.Errorf("%w: buffer read: destination is nil", ErrInvalidArgument)
		}
		return r.d.eng.read(dst, r.b.view(off), n)
	})
}

// resUse is one Resident a batch uses, with the byte range it touches.
type resUse struct {
	r      *Resident
	off, n int64
}

// batchRes runs f as one batch under the device lock after checking that every Resident is
// on this device, alive, and holds its range. Nothing runs when a check fails.
func (d *gdev) batchRes(op string, uses []resUse, f func() error) (Timing, error) {
	for _, u := range uses {
		if u.r == nil {
			return Timing{}, fmt.Errorf("%w: %s: nil buffer", ErrInvalidArgument, op)
		}
		if u.r.d != d {
			return Timing{}, fmt.Errorf("%w: %s: a buffer of %s passed to %s (buffers of different devices cannot be mixed)",
				ErrInvalidArgument, op, u.r.d, d)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return Timing{}, ErrClosed
	}
	for _, u := range uses {
		if err := u.r.checkRange(op, u.off, u.n); err != nil {
			return Timing{}, err
		}
	}
	if err := f(); err != nil {
		t, _ := d.eng.finish()
		d.xfer.add(t)
		return Timing{}, err
	}
	t, err := d.eng.finish()
	d.xfer.add(t)
	return t, err
}

// builtinLocked returns a built-in kernel; d.mu held.
func (d *gdev) builtinLocked(name string) (*kfunc, error) { return d.eng.builtin(name) }

// SaxpyResident computes y = a*x + y over the first n floats of two Residents of this device,
// with no copy. Errors wrap ErrInvalidArgument: buffers of another device, destroyed, or
// shorter than n floats.
func (d *gdev) SaxpyResident(a float32, x, y *Resident, n int) (Timing, error) {
	if n <= 0 {
		return Timing{}, fmt.Errorf("%w: saxpy: n = %d, want > 0", ErrInvalidArgument, n)
	}
	nb := int64(n) * 4
	return d.batchRes("saxpy", []resUse{{x, 0, nb}, {y, 0, nb}}, func() error {
		k, err := d.builtinLocked("saxpy_f32")
		if err != nil {
			return err
		}
		wg := d.wg()
		items := n
		if d.info.Kind == KindCUDA {
			items = min(ceilDiv(n, 4), 256*65535)
		}
		args := []karg{scalarOf(int64(n)), scalarOf(a), {buf: x.b}, {buf: y.b}}
		return d.eng.launch(k, [3]int{ceilDiv(items, wg) * wg, 1, 1}, [3]int{wg, 1, 1}, args)
	})
}

// reduceResident runs a sum/dot kernel over n elements of Residents. With out == nil the
// partials are read back and added on the host (8 bytes per group come back); with out, a
// second kernel adds them on the device in the same order and stores the float64 result in
// out's first 8 bytes (no copy; needs fp64).
func (d *gdev) reduceResident(name string, x, y *Resident, n int, elem int64, out *Resident) (float64, Timing, error) {
	if n <= 0 {
		return 0, Timing{}, fmt.Errorf("%w: %s: n = %d, want > 0", ErrInvalidArgument, name, n)
	}
	if out != nil && !d.info.FP64 {
		return 0, Timing{}, fmt.Errorf("%w: %s into a device buffer needs fp64 on %s", ErrUnsupported, name, d.info.Name)
	}
	nb := int64(n) * elem
	uses := []resUse{{x, 0, nb}}
	if y != nil {
		uses = append(uses, resUse{y, 0, nb})
	}
	if out != nil {
		uses = append(uses, resUse{out, 0, 8})
	}
	groups, wg := d.reduceGroups(n), d.wg()
	partial := make([]float64, groups)
	var held *Buffer
	defer func() {
		if held != nil {
			d.mu.Lock()
			d.pool.put(held)
			d.mu.Unlock()
		}
	}()
	t, err := d.batchRes(name, uses, func() error {
		k, err := d.builtinLocked(name)
		if err != nil {
			return err
		}
		bp, err := d.pool.get(int64(groups) * 8)
		if err != nil {
			return err
		}
		held = bp
		args := []karg{scalarOf(int64(n)), {buf: x.b}}
		if y != nil {
			args = append(args, karg{buf: y.b})
		}
		args = append(args, karg{buf: bp})
		if d.info.Kind == KindOpenCL {
			args = append(args, karg{local: int64(wg) * 8})
		}
		if err := d.eng.launch(k, [3]int{groups * wg, 1, 1}, [3]int{wg, 1, 1}, args); err != nil {
			return err
		}
		if out == nil {
			return d.eng.read(unsafe.Pointer(&partial[0]), bp, int64(groups)*8)
		}
		c, err := d.builtinLocked("combine_f64")
		if err != nil {
			return err
		}
		one := 1
		if d.info.Kind == KindCUDA {
			one = 256
		}
		return d.eng.launch(c, [3]int{one, 1, 1}, [3]int{one, 1, 1}, []karg{scalarOf(int64(groups)), {buf: bp}, {buf: out.b}})
	})
	if err != nil || out != nil {
		return 0, t, err
	}
	return d.combinePartials(partial), t, nil
}

// combinePartials adds the group partials in index order (float2 pairs without fp64).
func (d *gdev) combinePartials(partial []float64) float64 {
	var s float64
	if d.info.Kind == KindOpenCL && !d.info.FP64 {
		pairs := unsafe.Slice((*float32)(unsafe.Pointer(&partial[0])), 2*len(partial))
		for i := range partial {
			s += float64(pairs[2*i]) + float64(pairs[2*i+1])
		}
		return s
	}
	for _, p := range partial {
		s += p
	}
	return s
}

// DotF32Resident returns sum x[i]*y[i] over n floats of two Residents (accumulated in float64,
// the same value DotF32 gives on this device). out != nil keeps the result on the device
// instead: a float64 in out's first 8 bytes, and the returned value is 0.
func (d *gdev) DotF32Resident(x, y *Resident, n int, out *Resident) (float64, Timing, error) {
	if y == nil {
		return 0, Timing{}, fmt.Errorf("%w: dot: nil buffer", ErrInvalidArgument)
	}
	return d.reduceResident("dot_f32", x, y, n, 4, out)
}

// SumF32Resident is DotF32Resident's sum of n floats.
func (d *gdev) SumF32Resident(x *Resident, n int, out *Resident) (float64, Timing, error) {
	return d.reduceResident("sum_f32", x, nil, n, 4, out)
}
