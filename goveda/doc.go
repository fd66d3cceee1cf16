// Package goveda is the VEDA runtime: one pool of worker goroutines that Go, C (libveda.so) and
// Python callers share, with fork-join tasks, data-parallel loops, prioritized futures, built-in
// numeric kernels that run on the CPU or on a GPU, user kernels in OpenCL C or CUDA C, and
// metrics.
//
// # The runtime
//
// New starts a Runtime with Config.Workers worker goroutines (default: one per CPU this process
// may use); Default returns a shared one. Only workers run task bodies and the chunks of CPU
// kernels, so Workers caps how many run at once; a caller's own goroutine also runs Scope's
// function and small kernels inline (sums and Saxpy up to 64 Ki elements, Sgemm up to 2 Mflop)
// and waits for device calls, and DistributeFrames adds one goroutine per device for its work
// function: these do not count against Workers. (A one-chunk ParallelFor from outside may also
// run on the caller, but only in the execution slot of a parked worker, so it does count.) Every call may be made from any goroutine, also from inside a task (nesting
// never deadlocks: a waiting worker runs other tasks meanwhile).
//
// Close admits no new call, waits for every admitted one (CPU work, kernel calls on any device,
// Kernel.Run, Device methods, DistributeFrames batches and Submit tasks), then stops the
// workers. Work that an admitted call starts meanwhile (a task's Submit, a ParallelFor inside a
// Scope's function or a DistributeFrames work function) is still admitted, so every admitted
// call finishes normally; a call made after Close fails with ErrClosed and does nothing.
//
//	rt, err := goveda.New(goveda.Config{Workers: 4})
//	if err != nil { ... }
//	defer rt.Close()
//	err = rt.ParallelFor(ctx, 0, len(x), 0, func(lo, hi int) error {
//		for i := lo; i < hi; i++ {
//			x[i] *= 2
//		}
//		return nil
//	})
//	sum, err := goveda.Reduce(ctx, rt, 0, len(x), 0, 0.0,
//		func(lo, hi int, acc float64) float64 { for _, v := range x[lo:hi] { acc += v }; return acc },
//		func(a, b float64) float64 { return a + b })
//
// Join runs two functions in parallel; Scope waits for every task spawned in it; Submit queues
// a task at a Priority (with an optional deadline) and returns a Future. Errors are returned,
// never thrown: the first error of a group wins and stops it, a panic becomes a *PanicError, a
// cancelled context an error wrapping ErrCancelled (ErrTimeout when its deadline passed), and a nil
// *Runtime an error wrapping ErrInvalidArgument. Every error wraps one of the Err* sentinels,
// so errors.Is classifies it. Config.Policy chooses how workers are kept busy: adaptive (the
// default: idle workers park and surplus ones suspend), fixed, deterministic (bit-identical
// reductions), energy-efficient, low-latency. Metrics returns counters, latency percentiles
// and per-device statistics, also as JSON and Prometheus text.
//
// # Devices and built-in kernels
//
// Device 0 is always the CPU (the workers); OpenCL and CUDA devices follow when their drivers
// load at run time (Devices, AbsentBackends). The built-in kernels (Saxpy, SumF32, SumF64,
// DotF32, Sgemm and the strided sums) are placed by a dispatcher: a cost model learns each
// device's throughput and sends a call where it should finish first (Config.Strategy picks
// another strategy; PinDevice forces one device). A device failure falls back to the CPU.
// Decisions explains recent placements.
//
//	sum, err := rt.SumF32(ctx, x)          // placed by the dispatcher
//	d, err := rt.Device(1)                 // or run on one device explicitly
//	err = d.Saxpy(ctx, 2, x, y)
//	sums, err := goveda.DistributeFrames(ctx, rt, frames, // a batch over every device
//		func(d goveda.Device, f []float32) (float64, error) { return d.SumF32(ctx, f) })
//
// # User kernels
//
// Kernel compiles a KernelSource (OpenCL C and/or CUDA C, compiled once per device and cached
// on disk) and Kernel.Run launches it over n work items with In/Out/InOut slices and Scalar
// values; the runtime copies the slices to and from the device.
//
//	k, err := rt.Kernel(goveda.KernelSource{Name: "scale", OpenCL: `
//		__kernel void scale(__global float *x, const float s, const int n) {
//			int i = get_global_id(0); if (i < n) x[i] *= s;
//		}`})
//	if err != nil { ... } // wraps ErrUnsupported when no device has a source for it
//	defer k.Close()
//	err = k.Run(ctx, int64(len(x)), goveda.InOut(x), goveda.Scalar(float32(2)), goveda.Scalar(int32(len(x))))
//
// # Energy and heat
//
// Energy reports the joules and average watts since New per device and in total, each with its
// source: "rapl" (the CPU packages' powercap counters), "nvml" (a GPU's energy counter or its
// integrated power samples) or "estimated" (busy time x a documented power model, when no
// sensor is readable). Sensors lists every sensor as available or unavailable with the reason
// and the fix (a root-only energy_uj, no powercap in a VM, no libnvidia-ml.so.1): never a
// silent zero. The figures are also in Metrics (JSON "energy", Prometheus
// veda_energy_joules_total{device,kind,source}).
//
// PolicyEnergyEfficient with Config.MaxPowerWatts or Config.MaxTempCelsius runs a governor
// every 100 ms: above the budget, or from 5 °C below the temperature limit, it caps the active
// workers (the adaptive monitor applies the cap at its next tick; surplus workers finish their
// task, then suspend) and raises the cap one worker at a time after 3 calm ticks below 85% of
// the budget. Every change of the active workers is logged with its reason
// (EnergyReport.Resizes: "energy cap 2: power 61 W > budget 50 W", "utilization 12% < 30% for
// 5 ticks"). Config.EnergyWeight (seconds of makespan one joule is worth, StarPU's gamma) makes
// the earliest-finish dispatcher minimise finish + weight x joules, from joules per byte that
// the cost model learns per (kernel, device).
//
//	rt, err := goveda.New(goveda.Config{Policy: goveda.PolicyEnergyEfficient, MaxPowerWatts: 50})
//	...
//	e := rt.Energy() // e.Devices[0].Joules, .AverageWatts, .Source
//
// # NUMA
//
// On a machine with several NUMA nodes (Topology: /sys/devices/system/node and cpuid) workers
// are placed per node, consecutive ids on one node in proportion to its CPUs, and pinned to a
// CPU of their node with Config.PinWorkers. Stealing is hierarchical: a thief tries the workers
// of its own node first and another node's only after failed local passes (Metrics
// LocalSteals, RemoteSteals). A CUDA device's pinned staging memory is allocated on the GPU's
// node (its PCI numa_node; GPUAffinity).
//
// # Data on a device, vendor libraries, calibration
//
// A Buffer (Runtime.Buffer, ToDevice) is memory resident on one device; the built-ins on
// buffers (SaxpyBuffer, DotF32Buffer, SumF32Buffer) and kernels with BufferArg run on that
// device with no copy and no dispatch decision, in the device's queue order; the Async forms
// (WriteAsync, ReadAsync, Kernel.RunAsync, Kernel.RunNDAsync) return a Future at once.
// Kernel.RunND takes 1-3-D global and local sizes, checked against the device first.
//
//	x, _ := goveda.ToDevice(ctx, rt, 1, xs)
//	_ = rt.SaxpyBuffer(ctx, 2, x, y, len(xs))
//	f := k.RunAsync(int64(len(xs)), goveda.BufferArg(y), goveda.Scalar(int64(len(xs))))
//
// A CPU BLAS, CLBlast and cuBLAS loaded with dlopen are more implementations of sgemm (and
// saxpy on the CPU), measured against VEDA's own per size bucket (vendor.go; VendorLibraries,
// ImplStats). The cost model and those choices are saved per machine and loaded at start
// (calibration.go; Calibrate, SaveCalibration, VEDA_CALIBRATION).
//
// The scheduler's design (deques, stealing, parking, priorities, the adaptive monitor) is
// documented with its code, in goveda/internal/sched (doc.go and PARKING.md).
package goveda
