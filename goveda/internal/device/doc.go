// Package device is VEDA's GPU layer: an OpenCL backend and a CUDA backend
// behind one small Device interface, with the drivers loaded at run time.
//
// # Glossary
//
//   - loader: C in csrc/ (loader.c, ocl_loader.c, cuda_loader.c) that
//     dlopen()s libOpenCL.so.1, libcuda.so.1 and libnvrtc.so.13/.12 and
//     resolves only the entry points VEDA uses. Nothing is linked, so the
//     library loads on any Linux x86-64 machine. A failed load records why
//     (path tried + dlerror()) and the backend is absent; it never crashes.
//   - engine: the per-backend driver of one device (oclEngine, cudaEngine).
//     It owns the context and the in-order queue or stream, and runs batches.
//   - batch: the unit of device work. Under the device mutex, a kernel method
//     enqueues its host-to-device copies, its launches and its device-to-host
//     copies asynchronously, each with an event, then finish() waits once and
//     turns the events into a Timing (H2D, Compute, D2H, bytes).
//   - pool: per-device size-class buffer pool (powers of two from 4 KiB). A
//     freed buffer goes back to its class unless the pool already caches more
//     than its byte limit; Trim releases every cached buffer. Device
//     out-of-memory trims the pool and retries once, then returns an error
//     that matches ErrOutOfMemory, so the dispatcher can fall back to the CPU
//     (never for a Resident: its data is on the device).
//   - resident: a Resident is pool memory handed to a caller that outlives
//     a call (resident.go). Its kernels (SaxpyResident, DotF32Resident,
//     SumF32Resident, Kernel.RunND with ArgBuffer) launch on it with no
//     copy; a reduction may keep its result on the device (combine_f64 adds
//     the group partials in index order there, bit-identical to the host's
//     combine). Every operation checks, under the device lock, that the
//     Resident belongs to this device, is alive and holds the range.
//     TransferStats counts every host<->device copy of every batch.
//   - launch shape: launches take up to 3-D global and local sizes;
//     Kernel.CheckLaunch validates them against the device limits
//     (MaxWorkItemSizes, MaxWorkGroupSize, CUDA grid limits, OpenCL's
//     divisibility rule) before anything is enqueued.
//   - vendor libraries: blas_loader.c dlopen()s a CPU BLAS (OpenBLAS, BLIS,
//     MKL's runtime; one thread inside it, OPENBLAS_CORETYPE from cpuid) and
//     gpublas_loader.c cuBLAS (system or nvidia-cublas wheel) and CLBlast.
//     Each is one more implementation of a kernel (SgemmVendor); goveda
//     measures it against VEDA's own per size bucket and keeps the faster.
//     A missing library is never an error: VendorLibraries says why.
//   - cache: compiled programs on disk (OpenCL binaries, NVRTC PTX), keyed by
//     source hash, options, platform/device/driver version, VEDA version and
//     cache format; written atomically (temp file + rename) with a SHA-256
//     checksum; a bad entry is removed and rebuilt, never trusted.
//
// # Protocol of a built-in kernel call (e.g. SumF32)
//
//  1. Lock the device (one batch at a time per device; calls from other
//     goroutines wait).
//  2. Take buffers from the pool (size classes; OOM -> Trim -> retry once).
//  3. Enqueue H2D copies (OpenCL: non-blocking clEnqueueWriteBuffer from the
//     pinned Go memory; CUDA: through a ring of 4 pinned 8 MiB chunks, each
//     chunk memcpy'd in on up to 4 threads while the previous chunks'
//     cuMemcpyHtoDAsync run, a chunk's slot reused only after its event),
//     the launch, and the D2H copies (CUDA: chunked through the same ring,
//     synchronously: each chunk is copied out once its event completes).
//  4. finish(): wait for the queue, read the event times (OpenCL: its reads
//     land in the caller's memory now), return buffers to the pool.
//  5. Reductions add the per-group partials on the host in index order, so
//     the result depends only on n and the device: reproducible run to run.
//
// # Rejected approaches
//
//   - github.com/jgillich/go-opencl: not on the Go module proxy.
//   - gorgonia.org/cu: links -lcuda (the library would not load without a
//     driver) and does not build against CUDA 13 (cuCtxCreate changed).
//   - cuCtxCreate: the primary context (cuDevicePrimaryCtxRetain) is what the
//     CUDA runtime and other libraries share; creating our own would double
//     the memory footprint and break interop.
//
// Who may call: every exported function and method may be called from any
// goroutine. Device methods serialise on the device.
package device
