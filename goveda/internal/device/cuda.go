package device

/*
#include <stdlib.h>
#include <string.h>
#include "cuda_loader.h"
#include "gpublas_loader.h"
*/
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/veda-runtime/veda/cuda"
	"github.com/veda-runtime/veda/goveda/internal/topo"
)

type cudaMem = C.CUdeviceptr

var cuLoad struct {
	sync.Mutex
	nvrtc    bool
	nvrtcWhy string
	nvrtcVer string
}

// loadCUDA opens the driver and calls cuInit(0).
func loadCUDA(path string) error {
	cuLoad.Lock()
	defer cuLoad.Unlock()
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	why := make([]byte, 2048)
	if C.vdev_cuda_load(cpath, (*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why))) == 0 {
		return fmt.Errorf("cuda: %s", cstr(why))
	}
	return cuError("cuInit", C.vd_cuInit(0))
}

// loadNVRTC opens NVRTC; its absence only disables run-time compilation.
func loadNVRTC(path string) {
	cuLoad.Lock()
	defer cuLoad.Unlock()
	if cuLoad.nvrtc {
		return
	}
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	why := make([]byte, 2048)
	if C.vdev_nvrtc_load(cpath, (*C.char)(unsafe.Pointer(&why[0])), C.size_t(len(why))) == 0 {
		cuLoad.nvrtcWhy = "nvrtc: " + cstr(why)
		return
	}
	var maj, mnr C.int
	C.vd_nvrtcVersion(&maj, &mnr)
	cuLoad.nvrtc, cuLoad.nvrtcVer = true, fmt.Sprintf("%d.%d", maj, mnr)
}

// cudaErrNames is our own table, used when the driver lacks cuGetErrorName
// (or has no driver at all).
var cudaErrNames = map[int][2]string{
	0:   {"CUDA_SUCCESS", "no error"},
	1:   {"CUDA_ERROR_INVALID_VALUE", "invalid argument"},
	2:   {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
	3:   {"CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
	4:   {"CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
	34:  {"CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
	46:  {"CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA-capable device(s) is/are busy or unavailable"},
	100: {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
	101: {"CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
	200: {"CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
	201: {"CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
	209: {"CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
	218: {"CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
	222: {"CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain"},
	300: {"CUDA_ERROR_INVALID_SOURCE", "device kernel image is invalid"},
	400: {"CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
	500: {"CUDA_ERROR_NOT_FOUND", "named symbol not found"},
	600: {"CUDA_ERROR_NOT_READY", "device not ready"},
	700: {"CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
	701: {"CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
	702: {"CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
	719: {"CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
	803: {"CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "system has unsupported display driver / cuda driver combination"},
	999: {"CUDA_ERROR_UNKNOWN", "unknown error"},
}

// cudaErrorName returns the code's name and message: the driver's when
// cuGetErrorName/cuGetErrorString resolve, else our table's.
func cudaErrorName(code int) (name, msg string) {
	var p *C.char
	if C.vdev_cu_error_name(C.CUresult(code), &p) == 0 {
		name = C.GoString(p)
	}
	if C.vdev_cu_error_string(C.CUresult(code), &p) == 0 {
		msg = C.GoString(p)
	}
	if e, ok := cudaErrNames[code]; ok {
		if name == "" {
			name = e[0]
		}
		if msg == "" {
			msg = e[1]
		}
	}
	if name == "" {
		name = fmt.Sprintf("CUDA_ERROR_%d", code)
	}
	return name, msg
}

// cuError maps a CUresult to a *DeviceError (nil for CUDA_SUCCESS).
func cuError(op string, r C.CUresult) error {
	if r == 0 {
		return nil
	}
	name, msg := cudaErrorName(int(r))
	return &DeviceError{Backend: KindCUDA, Op: op, Code: int(r), Name: name, Message: msg, oom: r == C.VDEV_CUDA_ERROR_OUT_OF_MEMORY}
}

// cuOp is one timed stream operation: a copy (all of its chunks) or a launch.
type cuOp struct {
	start, end C.CUevent
	phase      int
	bytes      int64
	host       time.Duration // staging memcpy not overlapped by the device span
	hostAll    time.Duration // all staging memcpy of the transfer
	chunks     int
}

// Host<->device copies go through a ring of pinned staging chunks per
// engine: cudaStageSlots chunks of cudaStageChunk bytes, each allocated on
// first use and kept until close. A transfer is cut into chunks; the host
// memcpy of one chunk overlaps the device copies of the others. Each slot
// has an event recorded after the last device copy that used it: the host
// writes into a slot only after that event completed; device copies into a
// slot are ordered after earlier ones by the (single) stream. Variables so
// that tests can exercise the multi-chunk paths with small chunks.
var (
	cudaStageChunk   int64 = 8 << 20
	cudaStageSlots         = 4
	cudaStageThreads       = max(1, min(4, runtime.NumCPU()/2)) // goroutines per staging memcpy
	cudaParallelCopy int64 = 1 << 20                            // smallest memcpy split across them
)

const cuEventDisableTiming = 2 // CU_EVENT_DISABLE_TIMING

type cuSlot struct {
	p    unsafe.Pointer // pinned, ringChunk bytes; nil until first used
	ev   C.CUevent      // recorded after the last device copy using p
	busy bool           // ev recorded and not yet seen complete
}

// cudaEngine drives one CUDA device: its primary context and one stream.
// Called with the device mutex held; every driver call runs on a locked OS
// thread with the context made current first.
type cudaEngine struct {
	dev       C.CUdevice
	ctx       C.CUcontext
	stream    C.CUstream
	info      Info
	arch      string // "compute_90"
	opts      Options
	cache     *diskCache
	mods      map[string]C.CUmodule // built-in modules by cuda/ file name
	kernels   map[string]*kfunc
	ops       []cuOp
	ring      []cuSlot
	ringChunk int64
	ringNext  int // slot the next chunk takes
	events    []C.CUevent
	ptxSource string               // "nvcc" or "nvrtc"
	blas      C.vdev_cublas_handle // cuBLAS handle bound to stream; nil until the first vendor sgemm
}

// enter locks the OS thread and makes the context current; call leave after.
func (e *cudaEngine) enter() {
	runtime.LockOSThread()
	C.vd_cuCtxSetCurrent(e.ctx)
}

func (e *cudaEngine) leave() { runtime.UnlockOSThread() }

func cuAttr(d C.CUdevice, a C.int) int {
	var v C.int
	C.vd_cuDeviceGetAttribute(&v, a, d)
	return int(v)
}

func discoverCUDA(opts Options, cache *diskCache) ([]Device, error) {
	if err := loadCUDA(opts.CUDALibrary); err != nil {
		return nil, err
	}
	var n C.int
	if err := cuError("cuDeviceGetCount", C.vd_cuDeviceGetCount(&n)); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("cuda: no devices")
	}
	loadNVRTC(opts.NVRTCLibrary)
	var ver C.int
	C.vd_cuDriverGetVersion(&ver)
	var devs []Device
	var errs []string
	for i := 0; i < int(n); i++ {
		e, err := newCUDAEngine(i, opts, cache, fmt.Sprintf("%d.%d", ver/1000, (ver%1000)/10))
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		devs = append(devs, newGdev(e.info, e, opts.poolLimit(e.info.MemoryBytes), cache))
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("cuda: no usable devices: %s", strings.Join(errs, "; "))
	}
	return devs, nil
}

func newCUDAEngine(ordinal int, opts Options, cache *diskCache, driver string) (*cudaEngine, error) {
	e := &cudaEngine{opts: opts, cache: cache, kernels: map[string]*kfunc{}}
	if err := cuError("cuDeviceGet", C.vd_cuDeviceGet(&e.dev, C.int(ordinal))); err != nil {
		return nil, err
	}
	name := make([]byte, 256)
	C.vd_cuDeviceGetName((*C.char)(unsafe.Pointer(&name[0])), C.int(len(name)), e.dev)
	var mem C.size_t
	C.vd_cuDeviceTotalMem(&mem, e.dev)
	maj, mnr := cuAttr(e.dev, C.VDEV_CU_ATTR_CC_MAJOR), cuAttr(e.dev, C.VDEV_CU_ATTR_CC_MINOR)
	e.arch = fmt.Sprintf("compute_%d%d", maj, mnr)
	e.info = Info{Kind: KindCUDA, Name: cstr(name), Vendor: "NVIDIA", Platform: "CUDA", DriverVersion: driver,
		MemoryBytes: uint64(mem), ComputeUnits: cuAttr(e.dev, C.VDEV_CU_ATTR_MULTIPROCESSOR_COUNT),
		MaxWorkGroupSize: cuAttr(e.dev, C.VDEV_CU_ATTR_MAX_THREADS_PER_BLOCK), FP64: true,
		// CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X..Z = 2..4, MAX_GRID_DIM_X..Z = 5..7
		MaxWorkItemSizes: [3]int{cuAttr(e.dev, 2), cuAttr(e.dev, 3), cuAttr(e.dev, 4)},
		MaxGridSizes:     [3]int{cuAttr(e.dev, 5), cuAttr(e.dev, 6), cuAttr(e.dev, 7)},
		ComputeCap:       fmt.Sprintf("%d.%d", maj, mnr), NUMANode: -1}
	// CU_DEVICE_ATTRIBUTE_PCI_BUS_ID (33), _PCI_DEVICE_ID (34), _PCI_DOMAIN_ID (50).
	e.info.PCIBusID = fmt.Sprintf("%04x:%02x:%02x.0", cuAttr(e.dev, 50), cuAttr(e.dev, 33), cuAttr(e.dev, 34))
	if node, err := topo.PCINode(e.info.PCIBusID); err == nil {
		e.info.NUMANode = node
	}
	if err := cuError("cuDevicePrimaryCtxRetain", C.vd_cuDevicePrimaryCtxRetain(&e.ctx, e.dev)); err != nil {
		return nil, err
	}
	e.enter()
	defer e.leave()
	if err := cuError("cuStreamCreate", C.vd_cuStreamCreate(&e.stream, C.VDEV_CU_STREAM_NON_BLOCKING)); err != nil {
		C.vd_cuDevicePrimaryCtxRelease(e.dev)
		return nil, err
	}
	return e, nil
}

func (e *cudaEngine) allocBuf(class int64) (*Buffer, error) {
	e.enter()
	defer e.leave()
	var p C.CUdeviceptr
	if err := cuError("cuMemAlloc", C.vd_cuMemAlloc(&p, C.size_t(class))); err != nil {
		return nil, err
	}
	return &Buffer{cu: p}, nil
}

func (e *cudaEngine) freeBuf(b *Buffer) {
	e.enter()
	defer e.leave()
	C.vd_cuMemFree(b.cu)
}

func (e *cudaEngine) event() C.CUevent {
	if n := len(e.events); n > 0 {
		ev := e.events[n-1]
		e.events = e.events[:n-1]
		return ev
	}
	var ev C.CUevent
	C.vd_cuEventCreate(&ev, 0)
	return ev
}

// record enqueues f between two timing events.
func (e *cudaEngine) record(phase int, bytes int64, f func() C.CUresult, op string) error {
	st, en := e.event(), e.event()
	C.vd_cuEventRecord(st, e.stream)
	if err := cuError(op, f()); err != nil {
		e.events = append(e.events, st, en)
		return err
	}
	C.vd_cuEventRecord(en, e.stream)
	e.ops = append(e.ops, cuOp{start: st, end: en, phase: phase, bytes: bytes})
	return nil
}

// ensureRing sizes the staging ring from cudaStageChunk/cudaStageSlots,
// replacing it (after its copies completed) when those changed. Returns the
// chunk size.
func (e *cudaEngine) ensureRing() int64 {
	chunk, slots := cudaStageChunk, max(cudaStageSlots, 1)
	if chunk <= 0 {
		chunk = 8 << 20
	}
	if e.ringChunk != chunk || len(e.ring) != slots {
		e.freeRing()
		e.ring, e.ringChunk, e.ringNext = make([]cuSlot, slots), chunk, 0
	}
	return chunk
}

// freeRing waits for the copies using the ring and frees it.
func (e *cudaEngine) freeRing() {
	for i := range e.ring {
		s := &e.ring[i]
		if s.busy {
			C.vd_cuEventSynchronize(s.ev)
		}
		if s.p != nil {
			C.vd_cuMemFreeHost(s.p)
		}
		if s.ev != nil {
			C.vd_cuEventDestroy(s.ev)
		}
	}
	e.ring = nil
}

// slot returns ring slot i, allocating its event and pinned chunk on first use.
func (e *cudaEngine) slot(i int) (*cuSlot, error) {
	s := &e.ring[i]
	if s.ev == nil {
		var ev C.CUevent
		if err := cuError("cuEventCreate", C.vd_cuEventCreate(&ev, cuEventDisableTiming)); err != nil {
			return nil, err
		}
		s.ev = ev
	}
	if s.p == nil {
		var p unsafe.Pointer
		var rc C.CUresult
		// On the GPU's NUMA node: the driver touches (pins) the pages on this thread, so the
		// thread's preferred node decides where they come from.
		topo.OnNode(e.info.NUMANode, func() { rc = C.vd_cuMemHostAlloc(&p, C.size_t(e.ringChunk), 0) })
		if err := cuError("cuMemHostAlloc", rc); err != nil {
			return nil, err
		}
		s.p = p
	}
	return s, nil
}

// wait blocks until no device copy uses the slot's chunk any more.
func (s *cuSlot) wait() error {
	if !s.busy {
		return nil
	}
	if err := cuError("cuEventSynchronize", C.vd_cuEventSynchronize(s.ev)); err != nil {
		return err
	}
	s.busy = false
	return nil
}

// mark records the slot's event after the copy just enqueued. Should that
// fail, the stream is drained so that the slot is free again.
func (e *cudaEngine) mark(s *cuSlot) error {
	if err := cuError("cuEventRecord", C.vd_cuEventRecord(s.ev, e.stream)); err != nil {
		C.vd_cuStreamSynchronize(e.stream)
		return err
	}
	s.busy = true
	return nil
}

// hostCopy is memcpy, split across cudaStageThreads goroutines when large
// (one thread cannot saturate PCIe from pageable memory).
func hostCopy(dst, src unsafe.Pointer, n int64) {
	t := int64(cudaStageThreads)
	if t <= 1 || n < max(cudaParallelCopy, 2) {
		C.memcpy(dst, src, C.size_t(n))
		return
	}
	piece := (n/t + 4095) &^ 4095
	var wg sync.WaitGroup
	for off := piece; off < n; off += piece {
		wg.Add(1)
		go func(off int64) {
			defer wg.Done()
			C.memcpy(unsafe.Add(dst, off), unsafe.Add(src, off), C.size_t(min(piece, n-off)))
		}(off)
	}
	C.memcpy(dst, src, C.size_t(min(piece, n)))
	wg.Wait()
}

// write stages src through the ring, chunk by chunk, and enqueues the
// copies; src is no longer used when write returns. Timing: the device span
// from the first chunk's copy to the last one's end (host stalls included),
// plus the staging memcpy of the first chunk, which precedes it.
func (e *cudaEngine) write(dst *Buffer, src unsafe.Pointer, n int64) error {
	if n <= 0 {
		return nil
	}
	e.enter()
	defer e.leave()
	chunk := e.ensureRing()
	st, en := e.event(), e.event()
	op := cuOp{start: st, end: en, phase: 0, bytes: n}
	for off := int64(0); off < n; off += chunk {
		m := min(chunk, n-off)
		s, err := e.slot(e.ringNext)
		if err == nil {
			err = s.wait()
		}
		if err != nil {
			e.events = append(e.events, st, en)
			return err
		}
		t0 := time.Now()
		hostCopy(s.p, unsafe.Add(src, off), m)
		dt := time.Since(t0)
		op.hostAll += dt
		op.chunks++
		if off == 0 {
			op.host = dt
			C.vd_cuEventRecord(st, e.stream)
		}
		err = cuError("cuMemcpyHtoDAsync", C.vd_cuMemcpyHtoDAsync(dst.cu+C.CUdeviceptr(dst.off+off), s.p, C.size_t(m), e.stream))
		if err == nil {
			err = e.mark(s)
		}
		if err != nil {
			e.events = append(e.events, st, en)
			return err
		}
		e.ringNext = (e.ringNext + 1) % len(e.ring)
	}
	C.vd_cuEventRecord(en, e.stream)
	e.ops = append(e.ops, op)
	return nil
}

// read copies n bytes of src to dst through the ring and returns when dst
// holds them (after the work enqueued before it, stream order): up to
// len(ring) chunk copies are in flight while the host copies out the oldest
// one and reuses its slot for the next chunk. Timing (in finish): the device
// span of its copies plus the staging memcpy of the last chunk, which
// follows it.
func (e *cudaEngine) read(dst unsafe.Pointer, src *Buffer, n int64) error {
	if n <= 0 {
		return nil
	}
	e.enter()
	defer e.leave()
	chunk := e.ensureRing()
	nch := int((n + chunk - 1) / chunk)
	r, base := len(e.ring), e.ringNext
	e.ringNext = (base + nch) % r
	st, en := e.event(), e.event()
	op := cuOp{start: st, end: en, phase: 2, bytes: n, chunks: nch}
	fail := func(err error) error {
		e.events = append(e.events, st, en)
		return err
	}
	enqueue := func(k int) error {
		s, err := e.slot((base + k) % r)
		if err != nil {
			return err
		}
		// No host wait: an earlier copy from this slot is on the same
		// stream, and the host touches the chunk only after its event.
		off := int64(k) * chunk
		if err := cuError("cuMemcpyDtoHAsync", C.vd_cuMemcpyDtoHAsync(s.p, src.cu+C.CUdeviceptr(src.off+off), C.size_t(min(chunk, n-off)), e.stream)); err != nil {
			return err
		}
		if k == nch-1 {
			C.vd_cuEventRecord(en, e.stream)
		}
		return e.mark(s)
	}
	C.vd_cuEventRecord(st, e.stream)
	for k := 0; k < min(r, nch); k++ {
		if err := enqueue(k); err != nil {
			return fail(err)
		}
	}
	for k := 0; k < nch; k++ {
		s := &e.ring[(base+k)%r]
		if err := s.wait(); err != nil {
			return fail(err)
		}
		off := int64(k) * chunk
		t0 := time.Now()
		hostCopy(unsafe.Add(dst, off), s.p, min(chunk, n-off))
		dt := time.Since(t0)
		op.hostAll += dt
		if k == nch-1 {
			op.host = dt
		}
		if k+r < nch {
			if err := enqueue(k + r); err != nil {
				return fail(err)
			}
		}
	}
	e.ops = append(e.ops, op)
	return nil
}

// copyDtoD enqueues a device-to-device copy (benchmarks).
func (e *cudaEngine) copyDtoD(dst, src *Buffer, n int64) error {
	e.enter()
	defer e.leave()
	return e.record(1, 0, func() C.CUresult {
		return C.vd_cuMemcpyDtoDAsync(dst.cu, src.cu, C.size_t(n), e.stream)
	}, "cuMemcpyDtoDAsync")
}

// pinnedCopy times n-byte copies between a temporary pinned buffer and b,
// without staging (benchmarks: the PCIe ceiling the ring is measured
// against). Best of reps.
func (e *cudaEngine) pinnedCopy(b *Buffer, n int64, h2d bool, reps int) (time.Duration, error) {
	e.enter()
	defer e.leave()
	var p unsafe.Pointer
	if err := cuError("cuMemHostAlloc", C.vd_cuMemHostAlloc(&p, C.size_t(n), 0)); err != nil {
		return 0, err
	}
	defer C.vd_cuMemFreeHost(p)
	C.memset(p, 0, C.size_t(n))
	best := time.Duration(1 << 62)
	for i := 0; i < reps; i++ {
		t0 := time.Now()
		var r C.CUresult
		if h2d {
			r = C.vd_cuMemcpyHtoDAsync(b.cu, p, C.size_t(n), e.stream)
		} else {
			r = C.vd_cuMemcpyDtoHAsync(p, b.cu, C.size_t(n), e.stream)
		}
		if err := cuError("cuMemcpyAsync", r); err != nil {
			return 0, err
		}
		if err := cuError("cuStreamSynchronize", C.vd_cuStreamSynchronize(e.stream)); err != nil {
			return 0, err
		}
		best = min(best, time.Since(t0))
	}
	return best, nil
}

func (e *cudaEngine) launch(k *kfunc, global, local [3]int, args []karg) error {
	var block []byte
	offs := make([]C.size_t, len(args))
	for i, a := range args {
		for len(block)%8 != 0 {
			block = append(block, 0)
		}
		offs[i] = C.size_t(len(block))
		if a.buf != nil {
			block = append(block, unsafe.Slice((*byte)(unsafe.Pointer(&a.buf.cu)), 8)...)
		} else {
			block = append(block, a.scalar...)
		}
	}
	block = append(block, 0) // never empty
	bx, by, bz := max(local[0], 1), max(local[1], 1), max(local[2], 1)
	gx, gy, gz := ceilDiv(global[0], bx), ceilDiv(max(global[1], 1), by), ceilDiv(max(global[2], 1), bz)
	e.enter()
	defer e.leave()
	var op *C.size_t
	if len(offs) > 0 {
		op = &offs[0]
	}
	return e.record(1, 0, func() C.CUresult {
		return C.vdev_cu_launch(k.cuf, C.uint(gx), C.uint(gy), C.uint(gz), C.uint(bx), C.uint(by), C.uint(bz), 0, e.stream,
			unsafe.Pointer(&block[0]), op, C.int(len(args)))
	}, "cuLaunchKernel("+k.name+")")
}

// finish waits for the stream and sums the batch's timing. A copy's time is
// its device span plus the staging memcpy outside it (see write, read); for
// a multi-chunk copy at least all of its staging memcpy plus one chunk's
// device time (the host-bound pipeline, whose tail may follow the span).
func (e *cudaEngine) finish() (Timing, error) {
	e.enter()
	defer e.leave()
	err := cuError("cuStreamSynchronize", C.vd_cuStreamSynchronize(e.stream))
	if err == nil {
		for i := range e.ring {
			e.ring[i].busy = false
		}
	}
	var t Timing
	for _, op := range e.ops {
		var ms C.float
		var dev time.Duration
		if C.vdev_cu_event_elapsed(&ms, op.start, op.end) == 0 {
			dev = time.Duration(float64(ms) * 1e6)
		}
		d := dev + op.host
		if op.chunks > 1 {
			d = max(d, op.hostAll+dev/time.Duration(op.chunks))
		}
		switch op.phase {
		case 0:
			t.H2D += d
			t.BytesIn += op.bytes
			t.CopiesIn++
		case 1:
			t.Compute += d
		case 2:
			t.D2H += d
			t.BytesOut += op.bytes
			t.CopiesOut++
		}
		e.events = append(e.events, op.start, op.end)
	}
	e.ops = e.ops[:0]
	return t, err
}

func (e *cudaEngine) sync() error {
	e.enter()
	defer e.leave()
	return cuError("cuStreamSynchronize", C.vd_cuStreamSynchronize(e.stream))
}

// nvrtcCompile compiles CUDA C to PTX for this device, through the cache.
func (e *cudaEngine) nvrtcCompile(src, name string) (string, error) {
	opts := []string{"--gpu-architecture=" + e.arch, "-std=c++17"}
	cuLoad.Lock()
	ok, why, ver := cuLoad.nvrtc, cuLoad.nvrtcWhy, cuLoad.nvrtcVer
	cuLoad.Unlock()
	sum := sha256.Sum256([]byte(src))
	key := cacheKey("nvrtc", hex.EncodeToString(sum[:]), strings.Join(opts, " "), ver, e.arch)
	if ptx := e.cache.load("cuda", key); ptx != nil {
		return string(ptx), nil
	}
	if !ok {
		return "", fmt.Errorf("%w: no PTX for %s and no NVRTC (%s)", ErrUnsupported, name, why)
	}
	csrc, cname := C.CString(src), C.CString(name)
	defer C.free(unsafe.Pointer(csrc))
	defer C.free(unsafe.Pointer(cname))
	var prog C.nvrtcProgram
	if r := C.vd_nvrtcCreateProgram(&prog, csrc, cname, 0, nil, nil); r != 0 {
		return "", &DeviceError{Backend: KindCUDA, Op: "nvrtcCreateProgram", Code: int(r), Name: nvrtcErr(r)}
	}
	defer C.vd_nvrtcDestroyProgram(&prog)
	copts := make([]*C.char, len(opts))
	for i, o := range opts {
		copts[i] = C.CString(o)
		defer C.free(unsafe.Pointer(copts[i]))
	}
	coptsC := (**C.char)(C.malloc(C.size_t(len(opts)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(coptsC))
	copy(unsafe.Slice(coptsC, len(opts)), copts)
	if r := C.vd_nvrtcCompileProgram(prog, C.int(len(opts)), coptsC); r != 0 {
		var n C.size_t
		C.vd_nvrtcGetProgramLogSize(prog, &n)
		log := make([]byte, n+1)
		C.vd_nvrtcGetProgramLog(prog, (*C.char)(unsafe.Pointer(&log[0])))
		return "", &DeviceError{Backend: KindCUDA, Op: "nvrtcCompileProgram", Code: int(r), Name: nvrtcErr(r),
			Message: "options: " + strings.Join(opts, " "), Log: strings.TrimSpace(cstr(log)), build: true}
	}
	var n C.size_t
	C.vd_nvrtcGetPTXSize(prog, &n)
	ptx := make([]byte, n+1)
	C.vd_nvrtcGetPTX(prog, (*C.char)(unsafe.Pointer(&ptx[0])))
	out := cstr(ptx)
	e.cache.store("cuda", key, []byte(out))
	return out, nil
}

func nvrtcErr(r C.nvrtcResult) string {
	if s := C.vdev_nvrtc_error_string(r); s != nil {
		return C.GoString(s)
	}
	return fmt.Sprintf("NVRTC_ERROR_%d", int(r))
}

func (e *cudaEngine) loadModule(ptx string) (C.CUmodule, error) {
	e.enter()
	defer e.leave()
	cptx := C.CString(ptx)
	defer C.free(unsafe.Pointer(cptx))
	var m C.CUmodule
	return m, cuError("cuModuleLoadData", C.vd_cuModuleLoadData(&m, unsafe.Pointer(cptx)))
}

func (e *cudaEngine) function(m C.CUmodule, name string) (*kfunc, error) {
	e.enter()
	defer e.leave()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var f C.CUfunction
	if err := cuError("cuModuleGetFunction("+name+")", C.vd_cuModuleGetFunction(&f, m, cname)); err != nil {
		return nil, err
	}
	return &kfunc{name: name, cuf: f}, nil
}

// builtinCUDAFile returns the cuda/ source (without .cu) that holds built-in kernel name: the
// AES-GCM kernels are in aes_gcm.cu, the rest in veda_kernels.cu. Each file is its own module.
func builtinCUDAFile(name string) string {
	if strings.HasPrefix(name, "aes256gcm_") {
		return "aes_gcm"
	}
	return "veda_kernels"
}

// builtinModule loads the module of file: its embedded PTX, else NVRTC on its source.
func (e *cudaEngine) builtinModule(file string) (C.CUmodule, error) {
	if m, ok := e.mods[file]; ok {
		return m, nil
	}
	var m C.CUmodule
	var err error
	if ptx, rerr := fs.ReadFile(cuda.FS, "ptx/"+file+".ptx"); rerr == nil {
		m, err = e.loadModule(string(ptx))
		e.ptxSource = "nvcc"
	}
	if m == nil { // no embedded PTX, or the driver rejected it: NVRTC
		src, rerr := fs.ReadFile(cuda.FS, file+".cu")
		if rerr != nil {
			return nil, rerr
		}
		ptx, cerr := e.nvrtcCompile(string(src), file+".cu")
		if cerr != nil {
			if err != nil {
				return nil, fmt.Errorf("%v; %w", err, cerr)
			}
			return nil, cerr
		}
		if m, err = e.loadModule(ptx); err != nil {
			return nil, err
		}
		e.ptxSource = "nvrtc"
	}
	if e.mods == nil {
		e.mods = map[string]C.CUmodule{}
	}
	e.mods[file] = m
	return m, nil
}

func (e *cudaEngine) builtin(name string) (*kfunc, error) {
	if k := e.kernels[name]; k != nil {
		return k, nil
	}
	m, err := e.builtinModule(builtinCUDAFile(name))
	if err != nil {
		return nil, err
	}
	k, err := e.function(m, name)
	if err != nil {
		return nil, err
	}
	e.kernels[name] = k
	return k, nil
}

func (e *cudaEngine) compile(src KernelSource) (*kfunc, error) {
	ptx, err := e.nvrtcCompile(src.CUDA, src.Name+".cu")
	if err != nil {
		return nil, err
	}
	m, err := e.loadModule(ptx)
	if err != nil {
		return nil, err
	}
	k, err := e.function(m, src.Name)
	if err != nil {
		e.enter()
		C.vd_cuModuleUnload(m)
		e.leave()
		return nil, err
	}
	k.cum = m
	return k, nil
}

func (e *cudaEngine) releaseKernel(k *kfunc) {
	if k.cum != nil {
		e.enter()
		C.vd_cuModuleUnload(k.cum)
		e.leave()
	}
}

func (e *cudaEngine) close() {
	e.enter()
	C.vd_cuStreamSynchronize(e.stream)
	for _, ev := range e.events {
		C.vd_cuEventDestroy(ev)
	}
	e.freeRing()
	if e.blas != nil {
		C.vd_cublasDestroy(e.blas)
	}
	for _, m := range e.mods {
		C.vd_cuModuleUnload(m)
	}
	C.vd_cuStreamDestroy(e.stream)
	e.leave()
	C.vd_cuDevicePrimaryCtxRelease(e.dev)
}

// forgetCUDAOptional drops cuGetErrorName/String so that tests can check the
// fallback table on a machine with a driver.
func forgetCUDAOptional() { C.vdev_cu_forget_optional() }
