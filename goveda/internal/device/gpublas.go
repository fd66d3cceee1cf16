package device

/*
#include <stdlib.h>
#include "gpublas_loader.h"
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"unsafe"
)

// Vendor BLAS libraries on the GPU backends, loaded at run time (gpublas_loader.c): cuBLAS for
// CUDA devices, CLBlast for OpenCL devices. Each is one more implementation of sgemm on its
// devices; the integration layer (goveda) measures it against VEDA's kernel per size bucket and
// keeps the faster. A missing library is never an error: VEDA's kernel runs and VendorLibraries
// says why.

// VendorLibrary describes one vendor library: found (with the path and what it implements) or
// not (with why: every path tried with dlerror(), or disabled).
type VendorLibrary struct {
	Name    string   `json:"name"` // "blas" (CPU), "cublas" (CUDA), "clblast" (OpenCL)
	Found   bool     `json:"found"`
	Library string   `json:"library,omitempty"` // the path that loaded
	Detail  string   `json:"detail,omitempty"`
	Kernels []string `json:"kernels,omitempty"` // the kernels it implements
	Why     string   `json:"why,omitempty"`     // not found, or found but not used
}

type vendorLoad struct {
	once       sync.Once
	ok         bool
	which, why string
}

var clblastLoad, cublasLoad vendorLoad

// vendorOff reports VEDA_VENDOR_BLAS=off (no GPU vendor library is loaded).
func vendorOff() bool { v := os.Getenv("VEDA_VENDOR_BLAS"); return v == "off" || v == "0" }

// clblast loads CLBlast once (VEDA_CLBLAST_LIBRARY names the one path to try).
func clblast() (bool, string, string) {
	l := &clblastLoad
	l.once.Do(func() {
		if vendorOff() {
			l.why = "disabled by VEDA_VENDOR_BLAS=off"
			return
		}
		path := os.Getenv("VEDA_CLBLAST_LIBRARY")
		var cpath *C.char
		if path != "" {
			cpath = C.CString(path)
			defer C.free(unsafe.Pointer(cpath))
		}
		which, why := make([]byte, 512), make([]byte, 2048)
		l.ok = C.vdev_clblast_load(cpath, (*C.char)(unsafe.Pointer(&which[0])), C.size_t(len(which)),
			(*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why))) == 1
		l.which, l.why = cstr(which), cstr(why)
		if !l.ok {
			l.why = "clblast: " + l.why
		}
	})
	return l.ok, l.which, l.why
}

// cublasWheelPaths lists where the nvidia-cublas wheel puts libcublas.so.13: the site-packages
// of $VIRTUAL_ENV, of the user, of pyenv's versions and of the system Pythons.
func cublasWheelPaths() []string {
	home, _ := os.UserHomeDir()
	var roots []string
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		roots = append(roots, v+"/lib/python3*/site-packages")
	}
	if home != "" {
		roots = append(roots, home+"/.local/lib/python3*/site-packages", home+"/.pyenv/versions/*/lib/python3*/site-packages")
	}
	roots = append(roots, "/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3/dist-packages", "/opt/conda/lib/python3*/site-packages")
	var out []string
	for _, r := range roots {
		for _, sub := range []string{"/nvidia/cu13/lib/libcublas.so.13", "/nvidia/cublas/lib/libcublas.so.13"} {
			m, _ := filepath.Glob(r + sub)
			sort.Strings(m)
			out = append(out, m...)
		}
	}
	if len(out) > 15 {
		out = out[:15]
	}
	return out
}

// cublas loads cuBLAS once (VEDA_CUBLAS_LIBRARY names the one path to try).
func cublas() (bool, string, string) {
	l := &cublasLoad
	l.once.Do(func() {
		if vendorOff() {
			l.why = "disabled by VEDA_VENDOR_BLAS=off"
			return
		}
		path := os.Getenv("VEDA_CUBLAS_LIBRARY")
		var cpath *C.char
		if path != "" {
			cpath = C.CString(path)
			defer C.free(unsafe.Pointer(cpath))
		}
		wheel := cublasWheelPaths()
		cw := make([]*C.char, len(wheel)+1)
		for i, w := range wheel {
			cw[i] = C.CString(w)
			defer C.free(unsafe.Pointer(cw[i]))
		}
		which, why := make([]byte, 512), make([]byte, 4096)
		l.ok = C.vdev_cublas_load(cpath, &cw[0], C.int(len(wheel)), (*C.char)(unsafe.Pointer(&which[0])), C.size_t(len(which)),
			(*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why))) == 1
		l.which, l.why = cstr(which), cstr(why)
		if !l.ok {
			l.why = "cublas: " + l.why
			if len(wheel) == 0 {
				l.why += " (no nvidia-cublas wheel found in site-packages)"
			}
		}
	})
	return l.ok, l.which, l.why
}

// GPUVendorLibraries loads (once) and describes the GPU vendor libraries. Any goroutine.
func GPUVendorLibraries() []VendorLibrary {
	var out []VendorLibrary
	ok, which, why := cublas()
	out = append(out, VendorLibrary{Name: "cublas", Found: ok, Library: which, Why: why, Kernels: kernelsIf(ok, "sgemm")})
	ok, which, why = clblast()
	out = append(out, VendorLibrary{Name: "clblast", Found: ok, Library: which, Why: why, Kernels: kernelsIf(ok, "sgemm")})
	return out
}

func kernelsIf(ok bool, k ...string) []string {
	if ok {
		return k
	}
	return nil
}

// vendorFor returns the vendor library that implements kernel on a device ("cublas",
// "clblast"), or "". CLBlast is not used on an OpenCL device that runs on the host's cores
// (PoCL): there the host BLAS is the better implementation, and CLBlast builds its kernels from
// source in every process (a first build on PoCL took 25 s here).
func vendorFor(in Info, kernel string) string {
	if kernel != "sgemm" || in.HostCores {
		return ""
	}
	return vendorLib(in.Kind)
}

func vendorLib(kind Kind) string {
	switch kind {
	case KindOpenCL:
		if ok, _, _ := clblast(); ok {
			return "clblast"
		}
	case KindCUDA:
		if ok, _, _ := cublas(); ok {
			return "cublas"
		}
	}
	return ""
}

// clblastSgemm enqueues row-major C = alpha*A*B + beta*C through CLBlast on e's queue.
// Device mutex held.
func (e *oclEngine) vendorSgemm(m, n, k int, alpha float32, a *Buffer, lda int, b *Buffer, ldb int, beta float32, c *Buffer, ldc int) error {
	var ev C.cl_event
	st := C.vd_clblast_sgemm(C.size_t(m), C.size_t(n), C.size_t(k), C.float(alpha), a.ocl, C.size_t(lda),
		b.ocl, C.size_t(ldb), C.float(beta), c.ocl, C.size_t(ldc), &e.q, &ev)
	if st != 0 {
		return &DeviceError{Backend: KindOpenCL, Op: "CLBlastSgemm", Code: int(st), Name: fmt.Sprintf("CLBlastStatusCode(%d)", int(st)),
			oom: st == -4 || st == -5 || st == -6}
	}
	e.events = append(e.events, oclEvent{ev, 1, 0})
	return nil
}

// vendorSgemm runs row-major C = alpha*A*B + beta*C through cuBLAS on e's stream (the handle is
// created on first use and bound to the stream). Device mutex held.
func (e *cudaEngine) vendorSgemm(m, n, k int, alpha float32, a *Buffer, lda int, b *Buffer, ldb int, beta float32, c *Buffer, ldc int) error {
	e.enter()
	defer e.leave()
	if e.blas == nil {
		var h C.vdev_cublas_handle
		if st := C.vd_cublasCreate(&h); st != 0 {
			return &DeviceError{Backend: KindCUDA, Op: "cublasCreate_v2", Code: int(st), Name: fmt.Sprintf("cublasStatus(%d)", int(st)), oom: st == 3}
		}
		if st := C.vd_cublasSetStream(h, e.stream); st != 0 {
			C.vd_cublasDestroy(h)
			return &DeviceError{Backend: KindCUDA, Op: "cublasSetStream_v2", Code: int(st), Name: fmt.Sprintf("cublasStatus(%d)", int(st))}
		}
		e.blas = h
	}
	var st C.int
	err := e.record(1, 0, func() C.CUresult {
		st = C.vd_cublas_sgemm_rowmajor(e.blas, C.int(m), C.int(n), C.int(k), C.float(alpha), a.cu, C.int(lda),
			b.cu, C.int(ldb), C.float(beta), c.cu, C.int(ldc))
		return 0
	}, "cublasSgemm_v2")
	if err == nil && st != 0 {
		err = &DeviceError{Backend: KindCUDA, Op: "cublasSgemm_v2", Code: int(st), Name: fmt.Sprintf("cublasStatus(%d)", int(st)), oom: st == 3}
	}
	return err
}
