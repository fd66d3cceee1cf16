package capi

/*
#include "capi.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
	"github.com/veda-runtime/veda/goveda/handle"
)

// Device-resident buffers, N-D and asynchronous kernel launches (issue 16). Translation only:
// every rule (ranges, devices, shapes, order) is goveda's; this file checks C-only facts (NULL
// out pointers, handle validity, the veda_arg array) and maps errors to status codes.

const kindBuffer handleKind = 6 // veda_buffer*

var buffers = handle.New[*bufferEntry](kindBuffer)

// bufferEntry is the object behind a veda_buffer token.
type bufferEntry struct {
	b  *goveda.Buffer
	rt C.uintptr_t // the runtime's token: use after veda_runtime_destroy gets VEDA_ERR_CLOSED
}

func lookupBuffer(fn, name string, h C.uintptr_t) (*bufferEntry, C.veda_status) {
	b, state := buffers.Get(uintptr(h))
	switch state {
	case stateLive:
		if _, st := lookupRuntime(fn, b.rt); st != stOK {
			return nil, st
		}
		return b, stOK
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: %s was destroyed", name)
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: %s is NULL", name)
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: %s is not a buffer handle (never created or forged)", name)
	}
}

// checkAddr rejects a non-NULL address below minValidAddr and a NULL one with bytes > 0.
func checkAddr(fn, name string, addr uintptr, bytes uint64) C.veda_status {
	if bytes > 0 && addr == 0 {
		return fail(stInvalidArgument, fn, "veda: invalid argument: %s is NULL but bytes is %d", name, bytes)
	}
	if addr != 0 && addr < minValidAddr {
		return fail(stInvalidArgument, fn, "veda: invalid argument: %s is %#x, not a valid address", name, addr)
	}
	return stOK
}

//export vedago_buffer_create
func vedago_buffer_create(h C.uintptr_t, device C.int32_t, bytes C.uint64_t, out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_buffer_create"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if uint64(bytes) > maxElems {
		return fail(stInvalidArgument, fn, "veda: invalid argument: bytes is %d, too large", uint64(bytes))
	}
	b, err := e.rt.Buffer(int(device), int64(bytes))
	if err != nil {
		return failErr(fn, err)
	}
	*out = C.uintptr_t(buffers.Add(&bufferEntry{b: b, rt: h}))
	return stOK
}

// bufferIO is veda_buffer_write/read and their async forms; out != nil: async.
func bufferIO(fn string, write bool, h C.uintptr_t, off C.uint64_t, p uintptr, n C.uint64_t, out *C.uintptr_t) C.veda_status {
	be, st := lookupBuffer(fn, "b", h)
	if st != stOK {
		return st
	}
	name := "dst"
	if write {
		name = "src"
	}
	if st := checkAddr(fn, name, p, uint64(n)); st != stOK {
		return st
	}
	if uint64(off) > maxElems || uint64(n) > maxElems {
		return fail(stInvalidArgument, fn, "veda: invalid argument: offset %d + bytes %d outside the buffer's %d bytes", uint64(off), uint64(n), be.b.Bytes())
	}
	var f *goveda.Future[struct{}]
	if write {
		f = be.b.WriteAsync(int64(off), asPointer(p), int64(n), nil)
	} else {
		f = be.b.ReadAsync(int64(off), asPointer(p), int64(n), nil)
	}
	if out != nil {
		*out = C.uintptr_t(futures.Add(&future{f: f}))
		return stOK
	}
	_, err := f.Wait(callCtx())
	return result(fn, err)
}

//export vedago_buffer_write
func vedago_buffer_write(h C.uintptr_t, off C.uint64_t, src C.uintptr_t, n C.uint64_t, out *C.uintptr_t) (st C.veda_status) {
	fn := "veda_buffer_write"
	if out != nil {
		fn = "veda_buffer_write_async"
	}
	defer recoverExport(fn, &st)
	return bufferIO(fn, true, h, off, uintptr(src), n, out)
}

//export vedago_buffer_read
func vedago_buffer_read(h C.uintptr_t, off C.uint64_t, dst C.uintptr_t, n C.uint64_t, out *C.uintptr_t) (st C.veda_status) {
	fn := "veda_buffer_read"
	if out != nil {
		fn = "veda_buffer_read_async"
	}
	defer recoverExport(fn, &st)
	return bufferIO(fn, false, h, off, uintptr(dst), n, out)
}

//export vedago_buffer_destroy
func vedago_buffer_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_buffer_destroy"
	defer recoverExport(fn, &st)
	be, state := buffers.Take(uintptr(h))
	switch state {
	case stateLive:
	case stateStale:
		return fail(stInvalidArgument, fn, "veda: invalid argument: b was already destroyed")
	default:
		if h == 0 {
			return fail(stInvalidArgument, fn, "veda: invalid argument: b is NULL")
		}
		return fail(stInvalidArgument, fn, "veda: invalid argument: b is not a buffer handle (never created or forged)")
	}
	return result(fn, be.b.Destroy())
}

//export vedago_buffer_info
func vedago_buffer_info(h C.uintptr_t, device *C.int32_t, bytes *C.uint64_t) (st C.veda_status) {
	const fn = "veda_buffer_info"
	defer recoverExport(fn, &st)
	be, st := lookupBuffer(fn, "b", h)
	if st != stOK {
		return st
	}
	if device != nil {
		*device = C.int32_t(be.b.Device())
	}
	if bytes != nil {
		*bytes = C.uint64_t(be.b.Bytes())
	}
	return stOK
}

//export vedago_saxpy_buffer
func vedago_saxpy_buffer(h C.uintptr_t, a C.float, x, y C.uintptr_t, n C.int64_t) (st C.veda_status) {
	const fn = "veda_saxpy_buffer"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	bx, st := lookupBuffer(fn, "x", x)
	if st != stOK {
		return st
	}
	by, st := lookupBuffer(fn, "y", y)
	if st != stOK {
		return st
	}
	if n <= 0 || n > maxElems {
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be > 0", int64(n))
	}
	return result(fn, e.rt.SaxpyBuffer(callCtx(), float32(a), bx.b, by.b, int(n)))
}

//export vedago_reduce_buffer
func vedago_reduce_buffer(h C.uintptr_t, dot C.int32_t, x, y C.uintptr_t, n C.int64_t, out C.uintptr_t, res *C.double) (st C.veda_status) {
	fn := "veda_sum_f32_buffer"
	if dot != 0 {
		fn = "veda_dot_f32_buffer"
	}
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	bx, st := lookupBuffer(fn, "x", x)
	if st != stOK {
		return st
	}
	var by, bo *bufferEntry
	if dot != 0 {
		if by, st = lookupBuffer(fn, "y", y); st != stOK {
			return st
		}
	}
	if out != 0 {
		if bo, st = lookupBuffer(fn, "out", out); st != stOK {
			return st
		}
	} else if res == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: out and result are both NULL")
	}
	if n <= 0 || n > maxElems {
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be > 0", int64(n))
	}
	var ob *goveda.Buffer
	if bo != nil {
		ob = bo.b
	}
	var v float64
	var err error
	if dot != 0 {
		v, err = e.rt.DotF32Buffer(callCtx(), bx.b, by.b, int(n), ob)
	} else {
		v, err = e.rt.SumF32Buffer(callCtx(), bx.b, int(n), ob)
	}
	if err == nil && res != nil && ob == nil {
		*res = C.double(v)
	}
	return result(fn, err)
}

//export vedago_device_transfers
func vedago_device_transfers(h C.uintptr_t, device C.int32_t, out *C.int64_t) (st C.veda_status) {
	const fn = "veda_device_transfers"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	t, err := e.rt.DeviceTransfers(int(device))
	if err != nil {
		return failErr(fn, err)
	}
	o := unsafe.Slice(out, 4)
	o[0], o[1], o[2], o[3] = C.int64_t(t.H2DCopies), C.int64_t(t.H2DBytes), C.int64_t(t.D2HCopies), C.int64_t(t.D2HBytes)
	return stOK
}

// kernelArgs converts a veda_arg array (stride args[0].struct_size, at least minSize) to goveda
// arguments. Scalars are copied, so the caller's value may change once the call returned (an
// asynchronous run keeps the copy). VEDA_ARG_BUFFER: ptr is a veda_buffer*, bytes ignored.
func kernelArgs(fn string, args *C.veda_arg, nargs C.int32_t, minSize C.uint32_t) ([]goveda.Arg, C.veda_status) {
	switch {
	case nargs < 0:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: nargs is %d, must be >= 0", int32(nargs))
	case nargs > 0 && args == nil:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args is NULL but nargs is %d", int32(nargs))
	}
	gargs := make([]goveda.Arg, int(nargs))
	if nargs == 0 {
		return gargs, stOK
	}
	// The array's stride is args[0].struct_size (every element must carry the same one), so that
	// veda_arg can grow.
	stride := uintptr(args.struct_size)
	if stride < uintptr(minSize) || stride > 4096 || stride%unsafe.Alignof(*args) != 0 {
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[0].struct_size is %d, not a veda_arg size (set it to sizeof(veda_arg), %d)",
			uint32(args.struct_size), uint32(C.sizeof_veda_arg))
	}
	for i := range gargs {
		a := (*C.veda_arg)(unsafe.Add(unsafe.Pointer(args), uintptr(i)*stride))
		if uintptr(a.struct_size) != stride {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].struct_size is %d, args[0].struct_size is %d; they must be equal",
				i, uint32(a.struct_size), uint32(stride))
		}
		addr := *(*uintptr)(unsafe.Pointer(&a.ptr)) // read as an integer: it may be garbage
		bytes := uint64(a.bytes)
		kind := goveda.ArgKind(a.kind)
		switch kind {
		case goveda.ArgBuffer:
			be, st := lookupBuffer(fn, fmt.Sprintf("args[%d].ptr (a veda_buffer)", i), C.uintptr_t(addr))
			if st != stOK {
				return nil, st
			}
			gargs[i] = goveda.BufferArg(be.b)
			continue
		case goveda.ArgIn, goveda.ArgOut, goveda.ArgInOut:
			if bytes > maxElems {
				return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].bytes is %d, too large", i, bytes)
			}
			if bytes == 0 {
				addr = 0 // nothing is read or written
			} else if addr == 0 {
				return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].ptr is NULL but args[%d].bytes is %d", i, i, bytes)
			}
		case goveda.ArgScalar:
			if addr == 0 {
				return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].ptr is NULL (a scalar argument points at its value)", i)
			}
			if bytes == 0 || bytes > 64 {
				return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].bytes is %d, a scalar has 1..64 bytes", i, bytes)
			}
		default:
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].kind is %d, not a VEDA_ARG_* value", i, int32(a.kind))
		}
		if addr != 0 && addr < minValidAddr {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: args[%d].ptr is %#x, not a valid address", i, addr)
		}
		if kind == goveda.ArgScalar {
			v := C.GoBytes(asPointer(addr), C.int(bytes))
			gargs[i] = goveda.RawArg(kind, unsafe.Pointer(&v[0]), int64(bytes))
			continue
		}
		gargs[i] = goveda.RawArg(kind, asPointer(addr), int64(bytes))
	}
	return gargs, stOK
}

//export vedago_kernel_run
func vedago_kernel_run(h C.uintptr_t, dims C.uint32_t, global, local *C.int64_t, args *C.veda_arg, nargs C.int32_t, minSize C.uint32_t, out *C.uintptr_t) (st C.veda_status) {
	fn := "veda_kernel_run"
	if out != nil {
		fn = "veda_kernel_run_async"
	}
	defer recoverExport(fn, &st)
	ke, st := lookupKernel(fn, h)
	if st != stOK {
		return st
	}
	if dims < 1 || dims > 3 {
		return fail(stInvalidArgument, fn, "veda: invalid argument: dims is %d, must be 1, 2 or 3", uint32(dims))
	}
	if global == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: global is NULL")
	}
	g, l := [3]int64{1, 1, 1}, [3]int64{}
	gs := unsafe.Slice(global, int(dims))
	for i := range gs {
		g[i] = int64(gs[i])
	}
	if local != nil {
		l = [3]int64{1, 1, 1}
		ls := unsafe.Slice(local, int(dims))
		for i := range ls {
			l[i] = int64(ls[i])
		}
	}
	gargs, st := kernelArgs(fn, args, nargs, minSize)
	if st != stOK {
		return st
	}
	if _, st := lookupRuntime(fn, ke.rt); st != stOK {
		return st
	}
	f := ke.k.RunNDAsync(g, l, gargs...) // refused with ErrClosed once veda_kernel_destroy began
	if out != nil {
		*out = C.uintptr_t(futures.Add(&future{f: f}))
		return stOK
	}
	_, err := f.Wait(callCtx())
	return result(fn, err)
}
