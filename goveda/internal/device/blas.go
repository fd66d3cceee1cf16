package device

/*
#include <stdlib.h>
#include "blas_loader.h"
*/
import "C"

import (
	"math"
	"os"
	"sync"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// BLASInfo says which CPU BLAS was loaded (OpenBLAS, BLIS or MKL's runtime, by dlopen), or why
// none was. A missing BLAS is never an error: the built-in kernels run instead.
type BLASInfo struct {
	Found   bool   `json:"found"`
	Library string `json:"library,omitempty"` // the path that loaded ("libopenblas.so.0")
	Config  string `json:"config,omitempty"`  // the library's own description (OpenBLAS: openblas_get_config)
	Why     string `json:"why,omitempty"`     // when not found: every path tried with dlerror(), or "disabled by VEDA_BLAS=off"
	// CoreType is the OPENBLAS_CORETYPE in force at load: the user's, or the one VEDA set from
	// cpuid ("SkylakeX" with AVX-512, "Haswell" with AVX2+FMA). OpenBLAS 0.3.21 does not know
	// recent CPU models and would otherwise run its SSE3 ("Prescott") kernels on them.
	CoreType string `json:"openblas_coretype,omitempty"`
}

// openblasCore returns the OpenBLAS core the CPU supports, for OPENBLAS_CORETYPE.
func openblasCore() string {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512CD):
		return "SkylakeX"
	case cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3):
		return "Haswell"
	}
	return ""
}

var blasLoad struct {
	once sync.Once
	info BLASInfo
}

// BLAS loads the CPU BLAS once per process and returns what was found. VEDA_BLAS=off disables
// it; VEDA_BLAS_LIBRARY names the one library to try. Any goroutine; the first call costs the
// dlopen (about a millisecond), later calls are free.
func BLAS() BLASInfo {
	blasLoad.once.Do(func() { blasLoad.info = loadBLAS(os.Getenv("VEDA_BLAS"), os.Getenv("VEDA_BLAS_LIBRARY")) })
	return blasLoad.info
}

func loadBLAS(mode, path string) BLASInfo {
	if mode == "off" || mode == "0" {
		return BLASInfo{Why: "disabled by VEDA_BLAS=" + mode}
	}
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	core := os.Getenv("OPENBLAS_CORETYPE")
	if core == "" {
		core = openblasCore()
	}
	var ccore *C.char
	if core != "" {
		ccore = C.CString(core)
		defer C.free(unsafe.Pointer(ccore))
	}
	which := make([]byte, 512)
	why := make([]byte, 2048)
	if C.vdev_blas_load(cpath, ccore, (*C.char)(unsafe.Pointer(&which[0])), C.size_t(len(which)),
		(*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why))) == 0 {
		return BLASInfo{Why: "blas: " + cstr(why)}
	}
	return BLASInfo{Found: true, Library: cstr(which), Config: C.GoString(C.vdev_blas_config()), CoreType: core}
}

// BLASFits reports whether every dimension of a call fits the BLAS int (32-bit) interface.
func BLASFits(dims ...int) bool {
	for _, d := range dims {
		if d < 0 || d > math.MaxInt32 {
			return false
		}
	}
	return true
}

// BLASSgemm computes row-major C = alpha*A*B + beta*C with the loaded BLAS, on the calling
// thread (the library runs one thread). The caller checked the arguments, BLAS().Found and
// BLASFits; a, b may be empty only when k == 0 or alpha == 0. Any goroutine, on disjoint C.
func BLASSgemm(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	var ap, bp *C.float
	if len(a) > 0 {
		ap = (*C.float)(unsafe.Pointer(&a[0]))
	}
	if len(b) > 0 {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	C.vd_blas_sgemm(C.int(m), C.int(n), C.int(k), C.float(alpha), ap, C.int(lda), bp, C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

// BLASSaxpy computes y = a*x + y over len(y) elements (len(x) >= len(y)). As BLASSgemm.
func BLASSaxpy(a float32, x, y []float32) {
	if len(y) == 0 {
		return
	}
	C.vd_blas_saxpy(C.int(len(y)), C.float(a), (*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0])))
}

// BLASSdot returns the float32 dot product of x and y[:len(x)], accumulated as the library does
// (not compensated, not reproducible across libraries). As BLASSgemm.
func BLASSdot(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return float32(C.vd_blas_sdot(C.int(len(x)), (*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0]))))
}

// BLASDdot returns the float64 dot product of x and y[:len(x)]. As BLASSdot.
func BLASDdot(x, y []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return float64(C.vd_blas_ddot(C.int(len(x)), (*C.double)(unsafe.Pointer(&x[0])), (*C.double)(unsafe.Pointer(&y[0]))))
}
