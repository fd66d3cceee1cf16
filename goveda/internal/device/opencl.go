package device

/*
#cgo CFLAGS: -O2 -fvisibility=hidden -I${SRCDIR}/../../../csrc
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "ocl_loader.h"
#include "cuda_loader.h"
*/
import "C"

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/veda-runtime/veda/opencl"
)

type oclMem = C.cl_mem

// kfunc is a compiled kernel: an OpenCL kernel (with the program it owns,
// for user kernels) or a CUDA function (with its module, for user kernels).
type kfunc struct {
	name string
	clk  C.cl_kernel
	clp  C.cl_program // owned program (user kernels); nil for built-ins
	cuf  C.CUfunction
	cum  C.CUmodule // owned module (user kernels); nil for built-ins
}

var oclLoad struct {
	sync.Mutex
	loaded bool
}

// loadOpenCL opens the OpenCL ICD loader (path "" = default names).
func loadOpenCL(path string) error {
	oclLoad.Lock()
	defer oclLoad.Unlock()
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	why := make([]byte, 2048)
	if C.vdev_ocl_load(cpath, (*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why))) == 0 {
		return fmt.Errorf("opencl: %s", cstr(why))
	}
	oclLoad.loaded = true
	return nil
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

var oclErrNames = map[int]string{
	0: "CL_SUCCESS", -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE", -3: "CL_COMPILER_NOT_AVAILABLE",
	-4: "CL_MEM_OBJECT_ALLOCATION_FAILURE", -5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
	-7: "CL_PROFILING_INFO_NOT_AVAILABLE", -11: "CL_BUILD_PROGRAM_FAILURE", -30: "CL_INVALID_VALUE",
	-32: "CL_INVALID_PLATFORM", -33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT", -36: "CL_INVALID_COMMAND_QUEUE",
	-38: "CL_INVALID_MEM_OBJECT", -42: "CL_INVALID_BINARY", -43: "CL_INVALID_BUILD_OPTIONS", -44: "CL_INVALID_PROGRAM",
	-45: "CL_INVALID_PROGRAM_EXECUTABLE", -46: "CL_INVALID_KERNEL_NAME", -47: "CL_INVALID_KERNEL_DEFINITION",
	-48: "CL_INVALID_KERNEL", -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE", -51: "CL_INVALID_ARG_SIZE",
	-52: "CL_INVALID_KERNEL_ARGS", -53: "CL_INVALID_WORK_DIMENSION", -54: "CL_INVALID_WORK_GROUP_SIZE",
	-55: "CL_INVALID_WORK_ITEM_SIZE", -56: "CL_INVALID_GLOBAL_OFFSET", -58: "CL_INVALID_EVENT",
	-59: "CL_INVALID_OPERATION", -61: "CL_INVALID_BUFFER_SIZE", -63: "CL_INVALID_GLOBAL_WORK_SIZE",
	-1001: "CL_PLATFORM_NOT_FOUND_KHR",
}

// oclError maps an OpenCL status to a *DeviceError (nil for CL_SUCCESS).
func oclError(op string, code C.cl_int) error {
	if code == C.CL_SUCCESS {
		return nil
	}
	c := int(code)
	name, ok := oclErrNames[c]
	if !ok {
		name = "CL_UNKNOWN_ERROR"
	}
	return &DeviceError{Backend: KindOpenCL, Op: op, Code: c, Name: name, Message: name,
		oom: c == -4 || c == -5 || c == -6 || c == -61, build: c == -11}
}

type oclEvent struct {
	ev    C.cl_event
	phase int // 0 H2D, 1 compute, 2 D2H
	bytes int64
}

// oclEngine drives one OpenCL device: its own context and in-order,
// profiling-enabled queue. Called with the device mutex held.
type oclEngine struct {
	plat     C.cl_platform_id
	dev      C.cl_device_id
	ctx      C.cl_context
	q        C.cl_command_queue
	info     Info
	keyParts string // platform/device/driver versions for cache keys
	cache    *diskCache
	opts     string // built-in build options
	prog     C.cl_program
	kernels  map[string]*kfunc
	events   []oclEvent
	pinner   runtime.Pinner
}

func oclPlatformString(p C.cl_platform_id, what C.cl_platform_info) string {
	var n C.size_t
	if C.vd_clGetPlatformInfo(p, what, 0, nil, &n) != C.CL_SUCCESS || n == 0 {
		return ""
	}
	b := make([]byte, n)
	C.vd_clGetPlatformInfo(p, what, n, unsafe.Pointer(&b[0]), nil)
	return strings.TrimSpace(cstr(b))
}

func oclDeviceString(d C.cl_device_id, what C.cl_device_info) string {
	var n C.size_t
	if C.vd_clGetDeviceInfo(d, what, 0, nil, &n) != C.CL_SUCCESS || n == 0 {
		return ""
	}
	b := make([]byte, n)
	C.vd_clGetDeviceInfo(d, what, n, unsafe.Pointer(&b[0]), nil)
	return strings.TrimSpace(cstr(b))
}

func oclDeviceScalar[T any](d C.cl_device_id, what C.cl_device_info) T {
	var v T
	C.vd_clGetDeviceInfo(d, what, C.size_t(unsafe.Sizeof(v)), unsafe.Pointer(&v), nil)
	return v
}

// discoverOpenCL lists every device of every platform and opens each.
func discoverOpenCL(opts Options, cache *diskCache) ([]Device, error) {
	if err := loadOpenCL(opts.OpenCLLibrary); err != nil {
		return nil, err
	}
	var np C.cl_uint
	if err := oclError("clGetPlatformIDs", C.vd_clGetPlatformIDs(0, nil, &np)); err != nil || np == 0 {
		if err == nil {
			err = fmt.Errorf("opencl: no platforms")
		}
		return nil, err
	}
	plats := make([]C.cl_platform_id, np)
	C.vd_clGetPlatformIDs(np, &plats[0], nil)
	var devs []Device
	var errs []string
	for _, p := range plats {
		var nd C.cl_uint
		if C.vd_clGetDeviceIDs(p, C.CL_DEVICE_TYPE_ALL, 0, nil, &nd) != C.CL_SUCCESS || nd == 0 {
			continue
		}
		ids := make([]C.cl_device_id, nd)
		C.vd_clGetDeviceIDs(p, C.CL_DEVICE_TYPE_ALL, nd, &ids[0], nil)
		for _, id := range ids {
			e, err := newOCLEngine(p, id, cache)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			devs = append(devs, newGdev(e.info, e, opts.poolLimit(e.info.MemoryBytes), cache))
		}
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("opencl: no usable devices: %s", strings.Join(errs, "; "))
	}
	return devs, nil
}

func newOCLEngine(p C.cl_platform_id, id C.cl_device_id, cache *diskCache) (*oclEngine, error) {
	e := &oclEngine{plat: p, dev: id, cache: cache, kernels: map[string]*kfunc{}}
	ext := oclDeviceString(id, C.CL_DEVICE_EXTENSIONS)
	e.info = Info{
		Kind:             KindOpenCL,
		Name:             oclDeviceString(id, C.CL_DEVICE_NAME),
		Vendor:           oclDeviceString(id, C.CL_DEVICE_VENDOR),
		Platform:         oclPlatformString(p, C.CL_PLATFORM_NAME),
		DriverVersion:    oclDeviceString(id, C.CL_DRIVER_VERSION),
		MemoryBytes:      uint64(oclDeviceScalar[C.cl_ulong](id, C.CL_DEVICE_GLOBAL_MEM_SIZE)),
		ComputeUnits:     int(oclDeviceScalar[C.cl_uint](id, C.CL_DEVICE_MAX_COMPUTE_UNITS)),
		MaxWorkGroupSize: int(oclDeviceScalar[C.size_t](id, C.CL_DEVICE_MAX_WORK_GROUP_SIZE)),
		FP64:             strings.Contains(" "+ext+" ", " cl_khr_fp64 "),
		NUMANode:         -1, // OpenCL 1.2 reports no PCI address (cl_khr_pci_bus_info is optional)
		HostCores:        oclDeviceScalar[C.cl_device_type](id, C.CL_DEVICE_TYPE)&C.CL_DEVICE_TYPE_CPU != 0,
	}
	wis := oclDeviceScalar[[3]C.size_t](id, C.CL_DEVICE_MAX_WORK_ITEM_SIZES)
	for i := range wis {
		e.info.MaxWorkItemSizes[i] = int(wis[i])
	}
	e.keyParts = strings.Join([]string{e.info.Platform, oclPlatformString(p, C.CL_PLATFORM_VERSION),
		e.info.Name, oclDeviceString(id, C.CL_DEVICE_VERSION), e.info.DriverVersion}, "\x00")
	e.opts = "-cl-std=CL1.2"
	if e.info.FP64 {
		e.opts += " -DVEDA_FP64=1"
	}
	props := []C.cl_context_properties{C.CL_CONTEXT_PLATFORM, C.cl_context_properties(uintptr(unsafe.Pointer(p))), 0}
	var st C.cl_int
	e.ctx = C.vd_clCreateContext(&props[0], 1, &e.dev, nil, nil, &st)
	if err := oclError("clCreateContext", st); err != nil {
		return nil, err
	}
	e.q = C.vd_clCreateCommandQueue(e.ctx, e.dev, C.CL_QUEUE_PROFILING_ENABLE, &st)
	if err := oclError("clCreateCommandQueue", st); err != nil {
		C.vd_clReleaseContext(e.ctx)
		return nil, err
	}
	return e, nil
}

func (e *oclEngine) allocBuf(class int64) (*Buffer, error) {
	var st C.cl_int
	m := C.vd_clCreateBuffer(e.ctx, C.CL_MEM_READ_WRITE, C.size_t(class), nil, &st)
	if err := oclError("clCreateBuffer", st); err != nil {
		return nil, err
	}
	return &Buffer{ocl: m}, nil
}

func (e *oclEngine) freeBuf(b *Buffer) { C.vd_clReleaseMemObject(b.ocl) }

func (e *oclEngine) write(dst *Buffer, src unsafe.Pointer, n int64) error {
	e.pinner.Pin(src)
	var ev C.cl_event
	if err := oclError("clEnqueueWriteBuffer", C.vd_clEnqueueWriteBuffer(e.q, dst.ocl, C.CL_FALSE, C.size_t(dst.off), C.size_t(n), src, 0, nil, &ev)); err != nil {
		return err
	}
	e.events = append(e.events, oclEvent{ev, 0, n})
	return nil
}

func (e *oclEngine) read(dst unsafe.Pointer, src *Buffer, n int64) error {
	e.pinner.Pin(dst)
	var ev C.cl_event
	if err := oclError("clEnqueueReadBuffer", C.vd_clEnqueueReadBuffer(e.q, src.ocl, C.CL_FALSE, C.size_t(src.off), C.size_t(n), dst, 0, nil, &ev)); err != nil {
		return err
	}
	e.events = append(e.events, oclEvent{ev, 2, n})
	return nil
}

func (e *oclEngine) launch(k *kfunc, global, local [3]int, args []karg) error {
	for i, a := range args {
		var st C.cl_int
		switch {
		case a.buf != nil:
			m := a.buf.ocl
			st = C.vd_clSetKernelArg(k.clk, C.cl_uint(i), C.size_t(unsafe.Sizeof(m)), unsafe.Pointer(&m))
		case a.local > 0:
			st = C.vd_clSetKernelArg(k.clk, C.cl_uint(i), C.size_t(a.local), nil)
		default:
			st = C.vd_clSetKernelArg(k.clk, C.cl_uint(i), C.size_t(len(a.scalar)), unsafe.Pointer(&a.scalar[0]))
		}
		if err := oclError(fmt.Sprintf("clSetKernelArg(%s, %d)", k.name, i), st); err != nil {
			return err
		}
	}
	dim := C.cl_uint(1)
	if global[1] > 1 || local[1] > 1 {
		dim = 2
	}
	if global[2] > 1 || local[2] > 1 {
		dim = 3
	}
	g := [3]C.size_t{C.size_t(global[0]), C.size_t(max(global[1], 1)), C.size_t(max(global[2], 1))}
	l := [3]C.size_t{C.size_t(local[0]), C.size_t(max(local[1], 1)), C.size_t(max(local[2], 1))}
	lp := &l[0]
	if local[0] == 0 {
		lp = nil
	}
	var ev C.cl_event
	if err := oclError("clEnqueueNDRangeKernel("+k.name+")", C.vd_clEnqueueNDRangeKernel(e.q, k.clk, dim, nil, &g[0], lp, 0, nil, &ev)); err != nil {
		return err
	}
	e.events = append(e.events, oclEvent{ev, 1, 0})
	return nil
}

func (e *oclEngine) finish() (Timing, error) {
	err := oclError("clFinish", C.vd_clFinish(e.q))
	var t Timing
	for _, ev := range e.events {
		ns := time.Duration(C.vdev_ocl_event_ns(ev.ev))
		if ns < 0 {
			ns = 0
		}
		switch ev.phase {
		case 0:
			t.H2D += ns
			t.BytesIn += ev.bytes
			t.CopiesIn++
		case 1:
			t.Compute += ns
		case 2:
			t.D2H += ns
			t.BytesOut += ev.bytes
			t.CopiesOut++
		}
		C.vd_clReleaseEvent(ev.ev)
	}
	e.events = e.events[:0]
	e.pinner.Unpin()
	return t, err
}

func (e *oclEngine) sync() error { return oclError("clFinish", C.vd_clFinish(e.q)) }

// buildProgram builds src with opts for this device, through the cache.
func (e *oclEngine) buildProgram(src, opts string) (C.cl_program, error) {
	sum := sha256.Sum256([]byte(src))
	key := cacheKey("opencl", hex.EncodeToString(sum[:]), opts, e.keyParts)
	copts := C.CString(opts)
	defer C.free(unsafe.Pointer(copts))
	if bin := e.cache.load("opencl", key); bin != nil {
		cbin := C.CBytes(bin)
		ptrs := (**C.uchar)(C.malloc(C.size_t(unsafe.Sizeof(uintptr(0)))))
		*ptrs = (*C.uchar)(cbin)
		n := C.size_t(len(bin))
		var st, bst C.cl_int
		p := C.vd_clCreateProgramWithBinary(e.ctx, 1, &e.dev, &n, ptrs, &bst, &st)
		C.free(unsafe.Pointer(ptrs))
		C.free(cbin)
		if st == C.CL_SUCCESS && bst == C.CL_SUCCESS {
			if C.vd_clBuildProgram(p, 1, &e.dev, copts, nil, nil) == C.CL_SUCCESS {
				return p, nil
			}
			C.vd_clReleaseProgram(p)
		}
		e.cache.bad("opencl", key) // a stale or corrupt binary: rebuild from source
	}
	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	n := C.size_t(len(src))
	var st C.cl_int
	p := C.vd_clCreateProgramWithSource(e.ctx, 1, &csrc, &n, &st)
	if err := oclError("clCreateProgramWithSource", st); err != nil {
		return nil, err
	}
	printed := captureStderr(func() { st = C.vd_clBuildProgram(p, 1, &e.dev, copts, nil, nil) })
	if st != C.CL_SUCCESS {
		err := oclError("clBuildProgram", st).(*DeviceError)
		err.Log = e.buildLog(p)
		if printed != "" { // what the driver's compiler wrote to stderr (see captureStderr)
			err.Log = strings.TrimSpace(err.Log + "\ncompiler output:\n" + printed)
		}
		err.Message = "options: " + opts
		err.build = true
		C.vd_clReleaseProgram(p)
		return nil, err
	}
	if printed != "" {
		_, _ = os.Stderr.WriteString(printed + "\n") // a successful build's output, as before
	}
	var size C.size_t
	if C.vd_clGetProgramInfo(p, C.CL_PROGRAM_BINARY_SIZES, C.size_t(unsafe.Sizeof(size)), unsafe.Pointer(&size), nil) == C.CL_SUCCESS && size > 0 {
		buf := C.malloc(size)
		ptrs := (*unsafe.Pointer)(C.malloc(C.size_t(unsafe.Sizeof(uintptr(0)))))
		*ptrs = buf
		if C.vd_clGetProgramInfo(p, C.CL_PROGRAM_BINARIES, C.size_t(unsafe.Sizeof(uintptr(0))), unsafe.Pointer(ptrs), nil) == C.CL_SUCCESS {
			e.cache.store("opencl", key, C.GoBytes(buf, C.int(size)))
		}
		C.free(unsafe.Pointer(ptrs))
		C.free(buf)
	}
	return p, nil
}

func (e *oclEngine) buildLog(p C.cl_program) string {
	var n C.size_t
	if C.vd_clGetProgramBuildInfo(p, e.dev, C.CL_PROGRAM_BUILD_LOG, 0, nil, &n) != C.CL_SUCCESS || n == 0 {
		return ""
	}
	b := make([]byte, n)
	C.vd_clGetProgramBuildInfo(p, e.dev, C.CL_PROGRAM_BUILD_LOG, n, unsafe.Pointer(&b[0]), nil)
	return strings.TrimSpace(cstr(b))
}

func (e *oclEngine) kernel(p C.cl_program, name string) (*kfunc, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var st C.cl_int
	k := C.vd_clCreateKernel(p, cname, &st)
	if err := oclError("clCreateKernel("+name+")", st); err != nil {
		return nil, err
	}
	return &kfunc{name: name, clk: k}, nil
}

func (e *oclEngine) builtin(name string) (*kfunc, error) {
	if k := e.kernels[name]; k != nil {
		return k, nil
	}
	if e.prog == nil {
		src, err := builtinOpenCLSource()
		if err != nil {
			return nil, err
		}
		p, err := e.buildProgram(src, e.opts)
		if err != nil {
			return nil, err
		}
		e.prog = p
	}
	k, err := e.kernel(e.prog, name)
	if err != nil {
		return nil, err
	}
	e.kernels[name] = k
	return k, nil
}

// builtinOpenCLFiles are the built-in kernels' sources, built as one program (in this order).
var builtinOpenCLFiles = []string{"veda_kernels.cl", "aes_gcm.cl"}

func builtinOpenCLSource() (string, error) {
	var sb strings.Builder
	for _, f := range builtinOpenCLFiles {
		src, err := opencl.FS.ReadFile(f)
		if err != nil {
			return "", err
		}
		sb.Write(src)
		sb.WriteString("\n")
	}
	return sb.String(), nil
}

func (e *oclEngine) compile(src KernelSource) (*kfunc, error) {
	p, err := e.buildProgram(src.OpenCL, "-cl-std=CL1.2")
	if err != nil {
		return nil, err
	}
	k, err := e.kernel(p, src.Name)
	if err != nil {
		C.vd_clReleaseProgram(p)
		return nil, err
	}
	k.clp = p
	return k, nil
}

func (e *oclEngine) releaseKernel(k *kfunc) {
	C.vd_clReleaseKernel(k.clk)
	if k.clp != nil {
		C.vd_clReleaseProgram(k.clp)
	}
}

func (e *oclEngine) close() {
	C.vd_clFinish(e.q)
	for _, k := range e.kernels {
		C.vd_clReleaseKernel(k.clk)
	}
	if e.prog != nil {
		C.vd_clReleaseProgram(e.prog)
	}
	C.vd_clReleaseCommandQueue(e.q)
	C.vd_clReleaseContext(e.ctx)
}
