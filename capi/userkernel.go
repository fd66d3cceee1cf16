package capi

/*
#include "capi.h"
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"

	"github.com/veda-runtime/veda/goveda"
)

// kernelEntry is the object behind a veda_kernel token.
type kernelEntry struct {
	k  *goveda.Kernel
	rt C.uintptr_t // the runtime's token: a run after veda_runtime_destroy gets VEDA_ERR_CLOSED
}

// minValidAddr: non-NULL pointers below it are rejected as arguments. The Go runtime throws
// ("invalid pointer found on stack") when it finds such a value in an unsafe.Pointer while
// copying a stack, so they must never become one.
const minValidAddr = 4096

// asPointer turns a C address into an unsafe.Pointer (C memory, never Go memory).
func asPointer(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }

func lookupKernel(fn string, h C.uintptr_t) (*kernelEntry, C.veda_status) {
	k, state := kernels.Get(uintptr(h))
	switch state {
	case stateLive:
		return k, stOK
	case stateStale:
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: k was destroyed")
	default:
		if h == 0 {
			return nil, fail(stInvalidArgument, fn, "veda: invalid argument: k is NULL")
		}
		return nil, fail(stInvalidArgument, fn, "veda: invalid argument: k is not a kernel handle (never created or forged)")
	}
}

//export vedago_kernel_create
func vedago_kernel_create(h C.uintptr_t, openclSrc, cudaSrc, name *C.char, out *C.uintptr_t) (st C.veda_status) {
	const fn = "veda_kernel_create"
	defer recoverExport(fn, &st)
	e, st := lookupRuntime(fn, h)
	if st != stOK {
		return st
	}
	if name == nil {
		return fail(stInvalidArgument, fn, "veda: invalid argument: name is NULL")
	}
	src := goveda.KernelSource{Name: C.GoString(name)}
	if strings.TrimSpace(src.Name) == "" {
		return fail(stInvalidArgument, fn, "veda: invalid argument: name is empty")
	}
	if openclSrc != nil {
		src.OpenCL = C.GoString(openclSrc)
	}
	if cudaSrc != nil {
		src.CUDA = C.GoString(cudaSrc)
	}
	if src.OpenCL == "" && src.CUDA == "" {
		return fail(stInvalidArgument, fn, "veda: invalid argument: no source (opencl_src and cuda_src are both NULL or empty)")
	}
	k, err := e.rt.Kernel(src)
	if err != nil {
		return failErr(fn, err)
	}
	*out = C.uintptr_t(kernels.Add(&kernelEntry{k: k, rt: h}))
	return stOK
}

//export vedago_kernel_run_1d
func vedago_kernel_run_1d(h C.uintptr_t, n C.int64_t, args *C.veda_arg, nargs C.int32_t, minSize C.uint32_t) (st C.veda_status) {
	const fn = "veda_kernel_run_1d"
	defer recoverExport(fn, &st)
	ke, st := lookupKernel(fn, h)
	if st != stOK {
		return st
	}
	if n < 0 {
		return fail(stInvalidArgument, fn, "veda: invalid argument: n is %d, must be >= 0", int64(n))
	}
	gargs, st := kernelArgs(fn, args, nargs, minSize) // buffer.go: one conversion for every run
	if st != stOK {
		return st
	}
	if _, st := lookupRuntime(fn, ke.rt); st != stOK {
		if st == stClosed {
			setError(fn + ": veda: runtime closed: the kernel's runtime was destroyed")
		}
		return st
	}
	err := ke.k.Run(callCtx(), int64(n), gargs...)
	if errors.Is(err, goveda.ErrClosed) {
		if _, state := kernels.Get(uintptr(h)); state == stateStale {
			// A destroy of k raced this run (goveda's Kernel.Close refused it).
			return fail(stInvalidArgument, fn, "veda: invalid argument: k was destroyed")
		}
	}
	return result(fn, err)
}

//export vedago_kernel_destroy
func vedago_kernel_destroy(h C.uintptr_t) (st C.veda_status) {
	const fn = "veda_kernel_destroy"
	defer recoverExport(fn, &st)
	ke, state := kernels.Take(uintptr(h))
	switch state {
	case stateLive:
	case stateStale:
		return fail(stInvalidArgument, fn, "veda: invalid argument: k was already destroyed")
	default:
		if h == 0 {
			return fail(stInvalidArgument, fn, "veda: invalid argument: k is NULL")
		}
		return fail(stInvalidArgument, fn, "veda: invalid argument: k is not a kernel handle (never created or forged)")
	}
	ke.k.Close() // waits for runs in flight
	return stOK
}
